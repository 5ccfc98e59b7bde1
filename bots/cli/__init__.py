"""The ``threadline`` command."""
