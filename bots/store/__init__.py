"""Thread stores: where conversations live between messages."""
