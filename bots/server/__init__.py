"""The HTTP server: aiohttp application wiring and the admin API."""
