"""The REST channel, wire-compatible with Rasa's: existing Rasa REST clients work unchanged.

``POST /webhooks/rest/webhook`` with ``{"sender", "message", "metadata"?,
"input_channel"?}`` answers with the JSON list Rasa's REST channel would
(:mod:`connectors.rest.render`). The request handling is
:mod:`connectors.rest.channel`.
"""

from connectors.rest.channel import CHANNEL, SPEC, BadRequest, RestChannel, RestConfig, parse
from connectors.rest.render import render

__all__ = ["CHANNEL", "SPEC", "BadRequest", "RestChannel", "RestConfig", "parse", "render"]
