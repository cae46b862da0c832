"""The five checklist points and their fields: structure here, wording in prompts/<locale>/checklist.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["rating", "choice", "text", "date", "datetime"]

POINTS: tuple[str, ...] = ("opening", "interaction", "situation", "concessions", "next_step")
RATINGS: tuple[str, ...] = ("yes", "partly", "no")
NONE_ASKED = "none"  # a concessions rating: the customer asked for nothing
POINT_RATINGS: dict[str, tuple[str, ...]] = {"concessions": (*RATINGS, NONE_ASKED)}
OUTCOMES: tuple[str, ...] = ("closed", "next_step", "postponed", "lost")
AGENDA_CHOICES: tuple[str, ...] = ("customer_formal", "rep_informal", "nobody")
SUPPLIER_CHOICES: tuple[str, ...] = ("cannot_solve", "could_solve", "not_asked")

NOTE_LIMIT = 2000
ACCOUNT_LIMIT = 200


@dataclass(frozen=True)
class ChecklistField:
    """One thing the rep answers. `key` is also the storage name (column or `rating:<point>`)."""

    key: str
    kind: FieldKind
    point: str | None = None
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def is_rating(self) -> bool:
        return self.kind == "rating"


def _point(point: str, *extra: ChecklistField) -> tuple[ChecklistField, ...]:
    return (
        ChecklistField(f"rating:{point}", "rating", point, POINT_RATINGS.get(point, RATINGS), required=True),
        *extra,
        ChecklistField(f"note:{point}", "text", point),
    )


FIELDS: tuple[ChecklistField, ...] = (
    *_point("opening", ChecklistField("agenda_set_by", "choice", "opening", AGENDA_CHOICES)),
    *_point(
        "interaction",
        ChecklistField("customer_questions", "text", "interaction"),
        ChecklistField("answers_given", "text", "interaction"),
    ),
    *_point(
        "situation",
        ChecklistField("customer_tried", "text", "situation"),
        ChecklistField("supplier_check", "choice", "situation", SUPPLIER_CHOICES),
    ),
    *_point(
        "concessions",
        ChecklistField("concessions_asked", "text", "concessions"),
        ChecklistField("concessions_given", "text", "concessions"),
        ChecklistField("concessions_got", "text", "concessions"),
    ),
    *_point(
        "next_step",
        ChecklistField("next_step_what", "text", "next_step"),
        ChecklistField("next_step_who", "text", "next_step"),
        ChecklistField("next_step_due", "date", "next_step"),
        ChecklistField("next_meeting_at", "datetime", "next_step"),
    ),
    ChecklistField("outcome", "choice", None, OUTCOMES, required=True),
)
FIELDS_BY_KEY = {f.key: f for f in FIELDS}

# Columns of the debrief row (everything that is not a rating or a per-point note).
DEBRIEF_COLUMNS: tuple[str, ...] = tuple(
    f.key for f in FIELDS if not f.key.startswith(("rating:", "note:"))
)

SCORE = {"yes": 0, NONE_ASKED: 0, "partly": 1, "no": 2}


def weakest_points(ratings: dict[str, str], *, limit: int = 2) -> list[str]:
    """Points rated partly or no, the worst first; ties keep checklist order (opening first)."""
    weak = [p for p in POINTS if SCORE.get(ratings.get(p, "yes"), 0) > 0]
    return sorted(weak, key=lambda p: (-SCORE[ratings[p]], POINTS.index(p)))[:limit]
