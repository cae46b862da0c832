"""Who a web-chat visitor is in `coach serve --demo`: one of the demo team, picked on the page.

The demo's visitor is the rep Sanne unless they pick another persona (`POST /webchat/session`
with `{"persona": "<e-mail>"}`), which a cookie then remembers. Outside demo mode there are no
personas: the pick is refused and the cookie is never read, so a visitor is only ever the person
their own random cookie names.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot import demo
from bot.keys import SETTINGS

COOKIE = "coach_demo_persona"


@dataclass(frozen=True)
class Persona:
    user_id: str  # the demo person's platform user id in the local web-chat workspace
    name: str
    email: str
    role: str  # "manager" | "rep"

    def as_dict(self) -> dict[str, str]:
        return {"email": self.email, "name": self.name, "role": self.role}


def personas() -> tuple[Persona, ...]:
    """The demo team, the manager first: the people the page offers."""
    manager_id, manager_name, manager_email = demo.MANAGER
    team = [Persona(manager_id, manager_name, manager_email, "manager")]
    team += [Persona(r.user_id, r.name, r.email, "rep") for r in demo.REPS]
    return tuple(team)


DEFAULT = demo.REPS[0].user_id  # the first rep (Sanne) unless the visitor picks someone else


def by_email(email: object) -> Persona | None:
    if not isinstance(email, str):
        return None
    return next((p for p in personas() if p.email.casefold() == email.strip().casefold()), None)


def demo_mode(request: web.Request) -> bool:
    return bool(request.app[SETTINGS].demo)


def current(request: web.Request, chosen: Persona | None = None) -> Persona:
    """The persona of this demo visitor: just chosen, else the cookie's, else the default rep."""
    if chosen is not None:
        return chosen
    remembered = by_email(request.cookies.get(COOKIE))
    return remembered or next(p for p in personas() if p.user_id == DEFAULT)
