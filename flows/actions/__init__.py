"""Custom actions of the Stride demo bot, written with rasa-sdk.

The same package runs inside Threadline (``actions.mode: in_process``, the
default) or on a rasa-sdk action server (``cd flows && python -m rasa_sdk
--actions actions`` with ``actions.mode: remote``).
"""
