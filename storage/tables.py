"""Imports every module that defines tables, so SQLModel.metadata (and Alembic) sees them all."""

from __future__ import annotations

import storage.models  # noqa: F401
import storage.slack_store  # noqa: F401
import storage.sales_teams  # noqa: F401  (issue 6: sales teams for the digest)
import storage.teams_store  # noqa: F401
import storage.scheduling  # noqa: F401  (issue 5: meetings, nudges, feeds, web-chat inbox)
