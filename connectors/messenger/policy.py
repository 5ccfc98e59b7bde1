"""Messenger's messaging policy: the shared Meta policy (connectors/meta/policy.py) with Messenger's four tags."""

from __future__ import annotations

from connectors.meta.policy import HUMAN_AGENT_SECONDS, WINDOW_SECONDS, Decision, decide
from connectors.meta.policy import MESSENGER_TAGS as BOT_TAGS

__all__ = ["BOT_TAGS", "HUMAN_AGENT_SECONDS", "WINDOW_SECONDS", "Decision", "decide"]
