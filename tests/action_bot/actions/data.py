"""Data an action imports lazily, inside run(), as many Rasa projects do."""

VALUE = "from a lazy import"
