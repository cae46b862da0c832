"""Slack: Bolt on the shared aiohttp app, the debrief modal, listeners, sender and people."""
