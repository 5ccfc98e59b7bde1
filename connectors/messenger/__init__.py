"""Facebook Messenger: the webhook, a durable inbox, and replies within Messenger's rules."""

from connectors.base import ChannelSpec
from connectors.messenger.config import MESSENGER_ENV, MessengerConfig
from connectors.messenger.connector import MessengerChannel

SPEC = ChannelSpec(
    name="messenger",
    config_model=MessengerConfig,
    channel=MessengerChannel,
    enabled=lambda config: config.enabled,
    env=MESSENGER_ENV,
)

__all__ = ["SPEC", "MessengerChannel", "MessengerConfig"]
