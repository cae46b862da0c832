"""Scheduled work: the outbox scheduler, calendar feeds, and the digest's weekly jobs."""
