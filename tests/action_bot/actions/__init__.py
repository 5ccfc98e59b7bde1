"""rasa-sdk actions for the action test bot: one per event and message type Threadline applies.

Written exactly as for Rasa; tests run them in process and on ``python -m rasa_sdk --actions actions``.
"""
