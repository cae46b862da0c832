"""Debriefs as a rep answers them in the chat, by path: what they type or press for each field.

A path maps a field key to the answer (a label in the rep's language, or a typed text); a chat
driver answers each question the coach asks from it and fails on a question the path does not
expect, so a test says only what it is about: `path("typical", "nl", outcome="Verloren")`.

- all_good: every point went well, a next meeting was set (the issue's "at most 9" path);
- typical: two weak points (opening partly, concessions no), a next meeting date ("at most 14");
- longest: every point weak, postponed, no meeting but a due date (the longest path, 18).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

_ALL_GOOD = {
    "en": {
        "rating:opening": "Yes",
        "agenda_set_by": "I did, informally",
        "rating:interaction": "Yes",
        "customer_questions": "How fast is onboarding?",
        "rating:situation": "Yes",
        "rating:concessions": "Yes",
        "outcome": "Next step agreed",
        "next_step_what": "Pilot proposal: I send it, they book the IT review",
        "next_meeting_at": "next Tuesday 2pm",
    },
    "nl": {
        "rating:opening": "Ja",
        "agenda_set_by": "Ik, informeel",
        "rating:interaction": "Ja",
        "customer_questions": "Hoe snel is de implementatie?",
        "rating:situation": "Ja",
        "rating:concessions": "Ja",
        "outcome": "Volgende stap afgesproken",
        "next_step_what": "Pilotvoorstel: ik stuur het, zij plannen de IT-review",
        "next_meeting_at": "volgende week dinsdag 14:00",
    },
}
_TYPICAL = {
    "en": {
        **_ALL_GOOD["en"],
        "rating:opening": "Partly",
        "agenda_set_by": "The customer, formally",
        "note:opening": "They sent a formal agenda by mail.",
        "rating:concessions": "No",
        "concessions_asked": "A 10% discount",
        "concessions_given": "The discount, for a pilot",
    },
    "nl": {
        **_ALL_GOOD["nl"],
        "rating:opening": "Deels",
        "agenda_set_by": "De klant, formeel",
        "note:opening": "Ze stuurden een formele agenda per mail.",
        "rating:concessions": "Nee",
        "concessions_asked": "10% korting",
        "concessions_given": "De korting, voor een pilot",
    },
}
_LONGEST = {
    "en": {
        **_TYPICAL["en"],
        "rating:opening": "No",
        "rating:interaction": "Partly",
        "answers_given": "Six weeks.",
        "rating:situation": "Partly",
        "customer_tried": "An internal spreadsheet.",
        "supplier_check": "Didn't ask",
        "rating:concessions": "Partly",
        "concessions_got": "Nothing yet",
        "outcome": "Postponed",
        "rating:next_step": "Partly",
        "next_step_what": "They think it over",
        "next_meeting_at": "/skip",
        "next_step_due": "Friday",
    },
    "nl": {
        **_TYPICAL["nl"],
        "rating:opening": "Nee",
        "rating:interaction": "Deels",
        "answers_given": "Zes weken.",
        "rating:situation": "Deels",
        "customer_tried": "Een eigen spreadsheet.",
        "supplier_check": "Niet gevraagd",
        "rating:concessions": "Deels",
        "concessions_got": "Nog niets",
        "outcome": "Uitgesteld",
        "rating:next_step": "Deels",
        "next_step_what": "Ze denken erover na",
        "next_meeting_at": "overslaan",
        "next_step_due": "vrijdag",
    },
}
PATHS = {"all_good": _ALL_GOOD, "typical": _TYPICAL, "longest": _LONGEST}
# The targets: prompts from the first question after the customer's name to the saved message.
TARGETS = {"all_good": 9, "typical": 14, "longest": 18}

# With the clock at 2026-11-30 09:00 UTC (a Monday): "next Tuesday 2pm" is tomorrow, "volgende week
# dinsdag 14:00" the 8th (14:00 in Amsterdam is 13:00 UTC); Friday is the 4th.
MEETING = {"en": datetime(2026, 12, 1, 13, 0, tzinfo=UTC), "nl": datetime(2026, 12, 8, 13, 0, tzinfo=UTC)}
DUE = date(2026, 12, 4)


def path(name: str, locale: str = "en", **changed: str) -> dict[str, str]:
    """The answers of path `name` in `locale`; keyword `rating__opening="No"` changes one."""
    return {**PATHS[name][locale], **{k.replace("__", ":"): v for k, v in changed.items()}}
