"""Facebook Messenger: webhook in, Send API out, within Messenger's limits and messaging policy."""
