"""The website chat widget: served files, a WebSocket endpoint and its HTTP fallback."""

from connectors.web.connector import WebConnector

__all__ = ["WebConnector"]
