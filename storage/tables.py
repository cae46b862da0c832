"""Imports every module that defines tables, so SQLModel.metadata (and Alembic) sees them all."""

from __future__ import annotations

import storage.models
import storage.sales_teams  # issue 6: sales teams for the digest
import storage.scheduling  # issue 5: meetings, nudges, feeds, web-chat inbox
import storage.slack_store  # issue 3: slack_sdk installation and OAuth state tables
import storage.teams_store  # issue 4: Teams conversation references

__all__ = ["storage"]
