"""Conversation tests (``threadline test``): scripted customers run through the real pipeline.

``spec`` is the YAML format, ``rasa_stories`` maps Rasa's end-to-end test stories onto it, ``observe`` runs
the steps on a throwaway runtime, ``expect`` checks what a turn did, ``report`` writes the results.
"""
