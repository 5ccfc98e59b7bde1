"""Instagram messaging: webhooks in, the Send API out, within Instagram's limits and Meta's messaging policy.

One package is the whole channel: ``SPEC`` is its registry entry (the config section
``connectors.instagram``, its environment variables, and how to build it on the channel seam).
"""

from __future__ import annotations

from connectors.base import ChannelSpec
from connectors.instagram.config import ENVIRONMENT, InstagramConfig
from connectors.instagram.connector import InstagramChannel

SPEC = ChannelSpec(name="instagram", config_model=InstagramConfig, channel=InstagramChannel, env=ENVIRONMENT)
