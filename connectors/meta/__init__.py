"""What Meta's messaging channels share (Messenger, Instagram): not a channel itself.

``graph``: the Graph API client (Send API with retries, error classification,
profiles). ``policy``: the 24-hour window and message tags. ``signature``: the
webhook's ``X-Hub-Signature-256`` check. ``render``: neutral messages as Send
API bodies within a platform's limits. ``links``: following a "continue here"
link that arrived in a referral's ``ref``.
"""
