"""`help`: every command the rep has, grouped by topic (debriefs, meetings and nudges, their data,
their team for managers). The unknown-command answer is the same list under a line that says so.

The wording is data (prompts/<locale>/messages.yaml, `help_groups`); which groups there are, in
which order and who sees them is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import ItemGroup, Reply
from dialogs.text import bot
from storage.errors import ConfigError, NotFound
from storage.models import Role
from storage.people import get_person
from storage.sales_teams import count_reps


@dataclass(frozen=True)
class HelpGroup:
    key: str  # the key under help_groups in messages.yaml
    managers_only: bool = False


GROUPS: tuple[HelpGroup, ...] = (
    HelpGroup("debriefs"),
    HelpGroup("meetings"),
    HelpGroup("data"),
    HelpGroup("team", managers_only=True),
    HelpGroup("other"),
)


async def manages_people(ctx: CoachContext, rep: Rep) -> bool:
    """A manager or admin by role, or anyone with reps in their team (app.yaml or `team add`)."""
    async with ctx.db() as session:
        try:
            person = await get_person(session=session, person_id=rep.id)
        except NotFound:
            return False
        if person.role in (Role.MANAGER, Role.ADMIN):
            return True
        return await count_reps(session=session, manager_id=rep.id) > 0


def help_groups(ctx: CoachContext, locale: str, *, manager: bool) -> tuple[ItemGroup, ...]:
    data: Any = ctx.texts.data(locale, "messages").get("help_groups")
    where = ctx.texts.dir / locale / "messages.yaml"
    groups: list[ItemGroup] = []
    for group in GROUPS:
        if group.managers_only and not manager:
            continue
        node = data.get(group.key) if isinstance(data, dict) else None
        if not isinstance(node, dict) or not isinstance(node.get("items"), list):
            raise ConfigError(f"{where}: key 'help_groups.{group.key}' needs a title and items")
        groups.append(ItemGroup(title=bot(str(node["title"])),
                                items=tuple(bot(str(item)) for item in node["items"])))
    return tuple(groups)


async def help_reply(ctx: CoachContext, rep: Rep, lead: str | None = None) -> Reply:
    """The grouped list of commands; `lead` (the unknown-command line) above it."""
    manager = await manages_people(ctx, rep)
    return Reply(kind="help", title=ctx.texts.message(rep.locale, "help_title"), text=lead or "",
                 groups=help_groups(ctx, rep.locale, manager=manager))
