"""The coaching after a debrief: which tips the rules (prompts/coaching_rules.yaml) give, in the
method's order, worded with what the rep typed.

Per checklist point the first rule whose condition holds gives the tip; a weak point that no rule
matches gets its plain tip (tips.yaml). The opening comes first whenever it has a tip (the start
decides the close); the rest follow by priority, rules over plain tips for a point only half
weak. At most two tips, the second only when it adds something: another point, not covered by the
first, and either a rule's own tip or a point rated "no". What the rep typed enters a tip as a
template value, so each channel escapes it (dialogs.text.Text); it is quoted shortened to a line.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import meta
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import DEBRIEF_COLUMNS, POINTS, SCORE
from dialogs.coaching_rules import CoachingRules, Condition, Rule, load_rules
from dialogs.messages import Reply
from dialogs.tactic_fit import choose_tactics, debrief_tags, fits_of
from dialogs.text import Texts, format_day, format_when
from dialogs.validation import CleanDebrief
from storage.debriefs import DebriefMoment, PastDebrief, earlier_debriefs

TIPS_PER_DEBRIEF = 2
QUOTE_LIMIT = 90  # characters of the rep's own words a tip quotes
_QUOTE_MARKS = "\"'“”„‘’«»‚`"
# Template values every tip gets (prompts/<locale>/coaching.yaml), by the field they quote.
_SAID = {
    "tried": "customer_tried", "questions": "customer_questions", "answers": "answers_given",
    "asked": "concessions_asked", "given": "concessions_given", "got": "concessions_got",
    "next_step": "next_step_what", "who": "next_step_who",
}


@dataclass(frozen=True)
class Tip:
    """One tip chosen for a debrief: a rule's, or (rule None) the point's plain tip."""

    point: str
    rule: Rule | None
    priority: int
    severity: int  # 2 for "no", 1 for "partly", 0 for a point rated well or not rated
    count: int = 0  # a pattern: in how many of the last `total` debriefs it held
    total: int = 0

    @property
    def slight(self) -> bool:
        """A plain tip for a point that went only partly wrong: it never comes second."""
        return self.rule is None and self.severity < SCORE["no"]


def rules_of(texts: Texts) -> CoachingRules:
    return load_rules(texts.dir)


# -- conditions ------------------------------------------------------------------------------
def says_nothing(value: str, rules: CoachingRules) -> bool:
    folded = " ".join(value.casefold().split()).strip(" .!" + _QUOTE_MARKS)
    return folded in rules.nothing_words


def _value(debrief: CleanDebrief, point: str, key: str) -> Any:
    value = debrief.notes.get(point) if key == "note" else debrief.fields.get(key)
    return value.strip() if isinstance(value, str) else value


def holds(condition: Condition, point: str, debrief: CleanDebrief, rules: CoachingRules) -> bool:
    """Whether the condition holds on this debrief; a missing answer satisfies no test but `skipped`."""
    if condition.rating and debrief.ratings.get(point) not in condition.rating:
        return False
    if any(debrief.ratings.get(p) not in allowed for p, allowed in condition.ratings.items()):
        return False
    if any(debrief.fields.get(k) not in allowed for k, allowed in condition.choice.items()):
        return False
    if condition.outcome and debrief.fields.get("outcome") not in condition.outcome:
        return False
    for key in condition.answered:
        value = _value(debrief, point, key)
        if not isinstance(value, str) or not value or says_nothing(value, rules):
            return False
    for key in condition.said_nothing:
        value = _value(debrief, point, key)
        if not isinstance(value, str) or not value or not says_nothing(value, rules):
            return False
    if any(_value(debrief, point, key) not in (None, "") for key in condition.skipped):
        return False
    return not condition.any_of or any(holds(c, point, debrief, rules) for c in condition.any_of)


def needs_history(rules: CoachingRules, debrief: CleanDebrief) -> bool:
    """Whether a pattern rule could fire on this debrief (else the rep's history is not read)."""
    return any(r.pattern and holds(r.when, r.point, debrief, rules) for r in rules.rules)


def _matches(rule: Rule, debrief: CleanDebrief, history: Sequence[CleanDebrief],
             rules: CoachingRules) -> tuple[bool, int, int]:
    if not holds(rule.when, rule.point, debrief, rules):
        return False, 0, 0
    if rule.pattern is None:
        return True, 0, 0
    earlier = history[: rule.pattern.of_last - 1]
    count = 1 + sum(holds(rule.when, rule.point, d, rules) for d in earlier)
    return count >= rule.pattern.at_least, count, 1 + len(earlier)


def choose_tips(rules: CoachingRules, debrief: CleanDebrief,
                history: Sequence[CleanDebrief] = ()) -> list[Tip]:
    """The tips for this debrief, first one first. `history`: the rep's earlier debriefs, newest
    first (only pattern rules read it)."""
    candidates: list[Tip] = []
    for point in POINTS:
        severity = SCORE.get(debrief.ratings.get(point) or "", 0)
        tip = None
        for rule in rules.rules:
            if rule.point != point:
                continue
            matched, count, total = _matches(rule, debrief, history, rules)
            if matched:
                tip = Tip(point, rule, rules.priority(rule), severity, count, total)
                break
        if tip is None and severity > 0:
            tip = Tip(point, None, rules.point_priority(point), severity)
        if tip is not None:
            candidates.append(tip)
    if not candidates:
        return []
    ordered = sorted(candidates, key=lambda t: (t.point != "opening", t.slight, t.priority,
                                                -t.severity, POINTS.index(t.point)))
    first = ordered[0]
    covered = set(first.rule.covers) if first.rule else set()
    for tip in ordered[1:]:
        if tip.point not in covered and not tip.slight:
            return [first, tip][:TIPS_PER_DEBRIEF]
    return [first]


# -- wording ---------------------------------------------------------------------------------
def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The rep's words for a tip: one line, without the quote marks they typed, at most `limit`
    characters (cut at a word). A plain str, so it stays user text wherever it is placed."""
    flat = " ".join(text.split()).strip(_QUOTE_MARKS + " ")
    if flat.endswith(".") and not flat.endswith(".."):  # the tip's sentence goes on after the quote
        flat = flat[:-1].rstrip(_QUOTE_MARKS + " ")
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-—") + "…"


def _context(texts: Texts, locale: str, tz: str, now: datetime, debrief: CleanDebrief,
             tip: Tip, names: frozenset[str]) -> dict[str, Any]:
    """The values of a rule's tip: those its templates name (the rest stay empty)."""
    fields, rules = debrief.fields, rules_of(texts)

    def said(value: Any) -> str:
        known = isinstance(value, str) and value.strip() and not says_nothing(value, rules)
        return quote(value) if known else ""

    ctx: dict[str, Any] = dict.fromkeys(names, "")  # a value the templates do not name is not made
    ctx.update(account=debrief.account, count=tip.count, total=tip.total)
    for name in names & _SAID.keys():
        ctx[name] = said(fields.get(_SAID[name]))
    if "note" in names:
        ctx["note"] = said(debrief.notes.get(tip.point))
    meeting, due = fields.get("next_meeting_at"), fields.get("next_step_due")
    if "next_meeting" in names and isinstance(meeting, datetime) and meeting > now:
        ctx["next_meeting"] = format_when(meeting, locale=locale, tz=tz)
    if "due" in names and isinstance(due, date):
        ctx["due"] = format_day(due, locale=locale)
    for n, key in enumerate(fitting_tactics(texts, locale, debrief, tip.rule.tactics if tip.rule else ()),
                            start=1):
        ctx[f"tactic_{n}"] = _tactic(texts, locale, key, "name")
        ctx[f"tactic_{n}_say"] = _tactic(texts, locale, key, "say")
    return ctx


# Every value a rule's tip may use (prompts/<locale>/coaching.yaml says what each is).
TIP_VALUES: tuple[str, ...] = (*_SAID, "account", "note", "next_meeting", "due", "count", "total",
                               "tactic_1", "tactic_2", "tactic_1_say", "tactic_2_say")


def fitting_tactics(
    texts: Texts, locale: str, debrief: CleanDebrief, named: tuple[str, ...]
) -> tuple[str, ...]:
    """The counter-tactics a tip names: picked by fit for what this debrief says (the same tags and
    order the next nudge for the account uses, dialogs.tactic_fit), the rule's own pair when the
    library has too few that fit."""
    if not named:
        return ()
    library = texts.data(locale, "tactics")
    tags = debrief_tags(debrief.fields, debrief.ratings, texts.data(locale, "tactic_signals"))
    chosen = choose_tactics(list(library), (), fits=fits_of(library), tags=tags, n=len(named))
    return tuple(chosen) if len(chosen) == len(named) else named


@functools.lru_cache(maxsize=256)
def _tactic(texts: Texts, locale: str, key: str, part: str) -> str:
    """A counter-tactic's name or line (tactics.yaml), rendered once: Texts never change."""
    return texts.render(locale, "tactics", f"{key}.{part}")


@functools.lru_cache(maxsize=512)
def _wording(texts: Texts, locale: str, rule_id: str) -> tuple[bool, frozenset[str]]:
    """Whether the rule's tip has a line to say, and the values its templates name."""
    entry = texts.data(locale, "coaching")["tips"][rule_id]
    sources = [str(entry.get(part) or "") for part in ("tip", "say")]
    names = set().union(*(meta.find_undeclared_variables(texts.env.parse(src)) for src in sources))
    return bool(sources[1].strip()), frozenset(names)


def tip_texts(texts: Texts, locale: str, tz: str, now: datetime, debrief: CleanDebrief,
              tip: Tip) -> tuple[str, str | None]:
    """The advice and the line to say (None when the tip has none)."""
    if tip.rule is None:
        return texts.tip(locale, tip.point, "default", account=debrief.account)
    has_say, names = _wording(texts, locale, tip.rule.id)
    ctx = _context(texts, locale, tz, now, debrief, tip, names)
    advice = texts.render(locale, "coaching", f"tips.{tip.rule.id}.tip", **ctx)
    say = texts.render(locale, "coaching", f"tips.{tip.rule.id}.say", **ctx) if has_say else ""
    return advice, say or None


def coaching_reply(texts: Texts, *, locale: str, tz: str, now: datetime, debrief: CleanDebrief,
                   history: Sequence[CleanDebrief] = ()) -> Reply:
    """One or two tips for this debrief; praise when there is nothing to sharpen."""
    title = texts.message(locale, "tips_title")
    tips = choose_tips(rules_of(texts), debrief, history)
    if not tips:
        return Reply(kind="tips", title=title, items=(texts.praise(locale, account=debrief.account),),
                     meta={"points": [], "rules": []})
    items: list[str] = []
    for tip in tips:
        advice, say = tip_texts(texts, locale, tz, now, debrief, tip)
        items.append(texts.message(locale, "tip_line", title=texts.point(locale, tip.point, "title"),
                                   tip=advice))
        if say:
            items.append(texts.message(locale, "say_line", say=say))
    return Reply(kind="tips", title=title, items=tuple(items),
                 meta={"points": [t.point for t in tips],
                       "rules": [t.rule.id if t.rule else f"{t.point}_plain" for t in tips]})


# -- the rep's history -------------------------------------------------------------------------
async def coaching_history(
    *, session: AsyncSession, texts: Texts, debrief: CleanDebrief, moment: DebriefMoment
) -> list[CleanDebrief]:
    """The rep's debriefs before this one that the rules read, newest first; no query when no
    pattern rule can fire on this debrief."""
    found = await coaching_histories(session=session, texts=texts, wanted=[(moment, debrief)])
    return found.get(moment.debrief_id, [])


async def coaching_histories(
    *, session: AsyncSession, texts: Texts, wanted: Sequence[tuple[DebriefMoment, CleanDebrief]]
) -> dict[int, list[CleanDebrief]]:
    """coaching_history for several debriefs (by debrief id), in one query for all of them."""
    rules = rules_of(texts)
    moments = [m for m, debrief in wanted if needs_history(rules, debrief)]
    columns, notes, window = rules.history_reads
    found = await earlier_debriefs(session=session, moments=moments, limit=window, columns=columns,
                                   notes=notes)
    return {i: [_as_debrief(s) for s in rows] for i, rows in found.items()}


def _as_debrief(past: PastDebrief) -> CleanDebrief:
    """An earlier debrief as the facts the rules read (a missing answer stays missing)."""
    fields = {k: past.fields.get(k) for k in DEBRIEF_COLUMNS}
    return CleanDebrief(account="", ratings=past.ratings, notes=past.notes, fields=fields)
