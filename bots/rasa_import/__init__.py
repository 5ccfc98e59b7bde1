"""``threadline import rasa``: a Rasa 3.x project as a Threadline bot folder, with a report of what did not map.

Rasa's files are read where they are; the custom actions stay in the project and are called unchanged.
"""
