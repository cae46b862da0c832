"""Closing Coach runtime: the aiohttp app, its channels, the CLI and the configuration."""
