"""Imports every module that defines tables, so SQLModel.metadata (and Alembic) sees them all."""

from __future__ import annotations

import storage.action_points  # managers' action points for reps
import storage.chosen_tactics  # the counter-tactics a rep chose in a preparation
import storage.crm_models  # CRM connections, matches, written records, deal outcomes
import storage.models
import storage.planning_models  # preferences, invites, feeds, tactics, web-chat inbox
import storage.sales_teams  # sales teams for the digest
import storage.slack_store  # slack_sdk installation and OAuth state tables
import storage.teams_store  # Teams conversation references

__all__ = ["storage"]
