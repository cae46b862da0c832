"""Seeding many due nudges quickly (bulk inserts), for the scheduler tests and the benchmark."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.accounts import get_or_create_account
from storage.models import Meeting, Outbox, utcnow
from storage.people import get_or_create_person, get_or_create_workspace


async def seed_nudges(
    db: async_sessionmaker[AsyncSession],
    *,
    count: int,
    people: int = 20,
    now: datetime | None = None,
    locale: str = "en",
    platform: str = "web",
) -> list[int]:
    """`count` meetings an hour from now, spread over `people` reps, each with a due nudge row."""
    now = now or utcnow()
    async with db() as session, session.begin():
        ws = await get_or_create_workspace(
            session=session, platform=platform, external_id="bench" if platform == "web" else "T111"
        )
        person_ids = []
        for i in range(people):
            p = await get_or_create_person(
                session=session,
                workspace_id=ws.id or 0,
                platform_user_id=f"U{i:04d}",
                display_name=f"Rep {i}",
                locale=locale,
                timezone="Europe/Amsterdam",
            )
            person_ids.append(p.id)
        account_id = await get_or_create_account(session=session, workspace_id=ws.id or 0, name="Acme")
        starts = now + timedelta(hours=1)
        meetings = [
            {
                "workspace_id": ws.id,
                "person_id": person_ids[i % people],
                "account_id": account_id,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=1),
                "source": "manual",
                "external_uid": f"seed:{i}",
                "title": "Acme",
                "cancelled": False,
                "created_at": now,
            }
            for i in range(count)
        ]
        ids = list((await session.scalars(sa.insert(Meeting).returning(Meeting.id), meetings)).all())
        await session.execute(
            sa.insert(Outbox),
            [
                {
                    "dedup_key": f"m{mid}:nudge:seed",
                    "kind": "nudge",
                    "person_id": m["person_id"],
                    "payload": {"meeting_id": mid, "starts_at": starts.isoformat()},
                    "due_at": now - timedelta(seconds=1),
                    "expires_at": starts,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for mid, m in zip(ids, meetings, strict=True)
            ],
        )
    return ids
