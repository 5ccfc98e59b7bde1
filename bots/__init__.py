"""Threadline runtime: flow engine, thread store, server and CLI."""

__version__ = "0.1.0"
