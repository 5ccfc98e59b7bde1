"""What Meta's messaging channels share (Messenger, Instagram): a library, not a channel itself.

``graph``: the Graph API client (Send API with retries, error classification, profiles). ``policy``: the
24-hour window and message tags. ``signature``: the subscription handshake and reading a signed webhook POST.
``payload``: the webhook envelope and Meta's changing field types. ``render``: neutral messages as Send API
bodies within a platform's limits. ``links``: following a "continue here" link that came back in a ``ref``.
``queue``: processing the durable inbox one person at a time. ``config``: the Graph settings every section has.
"""
