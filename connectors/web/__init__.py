"""The website chat widget: served files, a WebSocket endpoint and its HTTP fallback."""

from connectors.base import ChannelSpec
from connectors.web.config import WebConfig
from connectors.web.connector import WebChannel

SPEC = ChannelSpec(name="web", config_model=WebConfig, channel=WebChannel)

__all__ = ["SPEC", "WebChannel", "WebConfig"]
