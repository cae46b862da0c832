"""The one Jinja2 environment over prompts/<locale>/, plus Babel formatting of dates and numbers.

Every rendered text is a `Text`: a plain `str` (the dialogs and their tests read it as such) that
also knows where the values placed into the template sit (`Text.user`). The dialogs stay neutral:
they never escape; each channel escapes only those spans, per renderer (bot/escape.py), and never
the bot's own wording from prompts/. A value that is itself a `Text` (a tip placed into a line, a
checklist title, a formatted date) stays the bot's, with its own user spans kept. A plain `str`
of unknown origin counts as user text as a whole (the safe default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    FunctionLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context

from dialogs.checklist import FIELDS, NONE_ASKED, OUTCOMES, POINTS, RATINGS
from dialogs.coaching_rules import check_wording, load_rules
from dialogs.tactic_fit import check_tactics
from dialogs.yaml_file import read_mapping
from storage.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
LOCALES: tuple[str, ...] = ("en", "nl")

_BABEL = {"en": "en_GB", "nl": "nl_NL"}
_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


# Private-use characters that bracket a template value while Jinja renders; taken out again (and
# out of every value) before a text leaves Texts, so they can't be forged or leak.
_OPEN, _CLOSE = "\ue000", "\ue001"


class Text(str):
    """Text the bot wrote, with the (start, end) spans of the user values placed into it."""

    user: tuple[tuple[int, int], ...]

    def __new__(cls, value: str = "", user: Iterable[tuple[int, int]] = ()) -> Text:
        obj = super().__new__(cls, value)
        obj.user = tuple(user)
        return obj

    def marked(self) -> str:
        out, at = [], 0
        for start, end in self.user:
            out += [self[at:start], _OPEN, self[start:end], _CLOSE]
            at = end
        out.append(self[at:])
        return "".join(out)


def pieces(text: str) -> Iterator[tuple[str, bool]]:
    """(segment, is_user) in order; a plain str (not rendered by Texts) is all user text."""
    if not isinstance(text, Text):
        if text:
            yield str(text), True
        return
    at = 0
    for start, end in text.user:
        if start > at:
            yield str(text[at:start]), False
        yield str(text[start:end]), True
        at = end
    if at < len(text):
        yield str(text[at:]), False


def bot(text: str) -> Text:
    """Wording the bot wrote itself (YAML data read as is, not through a template)."""
    return text if isinstance(text, Text) else Text(text)


def join(separator: str, parts: Iterable[str]) -> Text:
    """`separator.join(parts)` keeping each part's user spans (the separator is the bot's)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    size = 0
    for i, part in enumerate(parts):
        if i:
            out.append(separator)
            size += len(separator)
        for segment, user in pieces(part):
            if user:
                spans.append((size, size + len(segment)))
            out.append(segment)
            size += len(segment)
    return Text("".join(out), spans)


def _finalize(value: Any) -> str:
    """Jinja's hook for every {{ value }}: bracket user values, keep the bot's texts as they are."""
    if isinstance(value, Text):
        return value.marked()
    if isinstance(value, int | float):
        return str(value)
    raw = str(value).replace(_OPEN, "").replace(_CLOSE, "")
    return f"{_OPEN}{raw}{_CLOSE}" if raw else raw


def _parse(raw: str) -> Text:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    size, start = 0, -1
    for chunk in re.split(f"([{_OPEN}{_CLOSE}])", raw):
        if chunk == _OPEN:
            start = size
        elif chunk == _CLOSE:
            if start >= 0 and size > start:
                spans.append((start, size))
            start = -1
        else:
            out.append(chunk)
            size += len(chunk)
    return Text("".join(out), spans)


class _Environment(Environment):
    """Jinja2's Environment, with each template's globals a plain dict instead of a ChainMap over
    the environment's: rendering copies the globals into every context, and copying a ChainMap
    costs more than the short message it renders. Our globals never change after start."""

    def make_globals(self, d: Any) -> Any:
        return {**self.globals, **(d or {})}


class Texts:
    """Reads prompts/ once; renders messages, checklist wording and tips for a locale."""

    def __init__(self, prompts_dir: Path = PROMPTS_DIR) -> None:
        self.dir = prompts_dir
        self._data: dict[tuple[str, str], dict[str, Any]] = {}
        # Every compiled template, kept: the set is the prompts' keys, finite and read once (Jinja's
        # own cache holds 400 and evicts; each lookup also checks whether the source changed).
        self._templates: dict[str, Template] = {}
        self.env = _Environment(
            loader=ChoiceLoader(
                [FileSystemLoader(str(prompts_dir)), FunctionLoader(self._yaml_source)]
            ),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            finalize=_finalize,
        )
        self.env.filters["plural"] = plural
        for locale in LOCALES:
            self.validate(locale)
        check_tactics(self.data, self.dir, LOCALES)

    # -- data -------------------------------------------------------------------------------
    def data(self, locale: str, name: str) -> dict[str, Any]:
        key = (locale, name)
        if key not in self._data:
            self._data[key] = read_mapping(self.dir / locale / f"{name}.yaml")
        return self._data[key]

    def _yaml_source(self, name: str) -> str | None:
        # "en/messages/welcome" -> key "welcome" of prompts/en/messages.yaml
        parts = name.split("/")
        if len(parts) < 3:
            return None
        locale, file, *path = parts
        node: Any = self.data(locale, file)
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, str) else None

    def _template(self, name: str) -> Template:
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = self.env.get_template(name)
        return template

    def validate(self, locale: str) -> None:
        """Fail at start, naming the file and key, if a locale lacks a text the code needs."""
        cl = self.data(locale, "checklist")
        where = self.dir / locale / "checklist.yaml"
        needed = [f"points.{p}.{k}" for p in POINTS for k in ("title", "question", "hint")]
        needed += [f"ratings.{r}" for r in (*RATINGS, NONE_ASKED)]
        for f in FIELDS:
            if f.key.startswith(("rating:", "note:")):
                continue
            needed.append(f"fields.{f.key}.question")
            needed += [f"fields.{f.key}.choices.{c}" for c in f.choices]
        needed.append("fields.note.question")
        for dotted in needed:
            node: Any = cl
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, str) or not node.strip():
                raise ConfigError(f"{where}: key '{dotted}' is missing or empty")
        tips = self.data(locale, "tips")
        for p in POINTS:
            if not isinstance(tips.get(p), dict) or "default" not in tips[p]:
                raise ConfigError(f"{self.dir / locale / 'tips.yaml'}: key '{p}.default' is missing")
        coaching = self.dir / locale / "coaching.yaml"
        rules = load_rules(self.dir)
        check_wording(rules, coaching=self.data(locale, "coaching"), tactics=self.data(locale, "tactics"),
                      where=coaching)
        for rule in rules.rules:  # a template that does not compile fails now, not at a rep's debrief
            for part in ("tip", "say"):
                try:
                    self._template(f"{locale}/coaching/tips/{rule.id}/{part}")
                except TemplateSyntaxError as exc:
                    raise ConfigError(f"{coaching}: key 'tips.{rule.id}.{part}': {exc.message}") from None
                except TemplateNotFound:
                    pass  # `say` is optional

    # -- rendering --------------------------------------------------------------------------
    def _render(self, name: str, ctx: dict[str, Any]) -> Text:
        return _parse(self._template(name).render(**ctx).strip())

    def message(self, locale: str, key: str, **ctx: Any) -> str:
        return self._render(f"{locale}/messages/{key}", ctx)

    def render(self, locale: str, file: str, key: str, **ctx: Any) -> str:
        """A template from another prompts file: render("nl", "slack", "modal_title") reads
        key `modal_title` of prompts/nl/slack.yaml (dotted keys reach into mappings)."""
        name = "/".join([locale, file, *key.split(".")])
        return self._render(name, ctx)

    def items(self, locale: str, key: str) -> list[str]:
        value = self.data(locale, "messages").get(key)
        if not isinstance(value, list):
            raise ConfigError(f"{self.dir / locale / 'messages.yaml'}: key '{key}' must be a list")
        return [Text(str(v)) for v in value]

    def point(self, locale: str, point: str, key: str) -> str:
        return Text(str(self.data(locale, "checklist")["points"][point][key]))

    def rating(self, locale: str, rating: str) -> str:
        return Text(str(self.data(locale, "checklist")["ratings"][rating]))

    def field_question(self, locale: str, field_key: str, **ctx: Any) -> str:
        if field_key.startswith("note:"):
            title = self.point(locale, field_key.split(":", 1)[1], "title")
            return self._render(f"{locale}/checklist/fields/note/question", {"title": title})
        return self._render(f"{locale}/checklist/fields/{field_key}/question", ctx)

    def choice(self, locale: str, field_key: str, choice: str) -> str:
        if field_key.startswith("rating:"):
            return self.rating(locale, choice)
        return Text(str(self.data(locale, "checklist")["fields"][field_key]["choices"][choice]))

    def outcome(self, locale: str, outcome: str) -> str:
        assert outcome in OUTCOMES
        return self.choice(locale, "outcome", outcome)

    def tip(self, locale: str, point: str, variant: str, **ctx: Any) -> tuple[str, str | None]:
        """The tip and the line to say for a point; falls back to the point's default variant."""
        tips = self.data(locale, "tips")[point]
        chosen = variant if variant in tips else "default"
        tip = self._render(f"{locale}/tips/{point}/{chosen}/tip", ctx)
        say = tips[chosen].get("say")
        said = self._render(f"{locale}/tips/{point}/{chosen}/say", ctx) if say else None
        return tip, said or None

    def praise(self, locale: str, **ctx: Any) -> str:
        return self._render(f"{locale}/tips/praise/tip", ctx)


@pass_context
def plural(context: Context, n: int, one: str, other: str, **forms: str) -> str:
    """`{{ n | plural("debrief", "debriefs") }}`: "1 debrief", "2 debriefs", the noun in the form
    Babel's plural rules give for n in the template's locale (its name starts "<locale>/").
    A locale with more forms than one/other passes them by CLDR name: `few="..."`, `many="..."`."""
    locale = (context.name or "").split("/", 1)[0]
    try:
        form = _babel(locale).plural_form(abs(int(n)))
    except (TypeError, ValueError):  # not a number (a caller's mistake): the general form
        form = "other"
    return f"{n} {one if form == 'one' else forms.get(form, other)}"


@cache
def default_texts() -> Texts:
    """The shared, read-only Texts over the packaged prompts/ (parsed once per process)."""
    return Texts()


# -- Babel formatting, per locale and timezone ----------------------------------------------------
def babel_locale(locale: str) -> str:
    return _BABEL.get(locale, "en_GB")


@lru_cache(maxsize=16)
def _babel(locale: str) -> Locale:
    """The parsed Babel locale (parsing the identifier costs more than most formatting)."""
    return Locale.parse(babel_locale(locale))


def format_when(moment: datetime, *, locale: str, tz: str) -> str:
    """'Tue 8 Dec 2026, 14:00' / 'di 8 dec 2026 14:00' in the person's timezone."""
    local = moment.astimezone(ZoneInfo(tz))
    return Text(format_datetime(local, "EEE d MMM y, HH:mm", locale=_babel(locale)))


def format_day(day: date, *, locale: str) -> str:
    return Text(format_date(day, "EEE d MMM y", locale=_babel(locale)))


def format_long_day(day: date, *, locale: str) -> str:
    """'Thursday 3 December' / 'donderdag 3 december': a day as one writes it in a mail."""
    return Text(format_date(day, "EEEE d MMMM", locale=_babel(locale)))


def format_clock(moment: Any, *, locale: str) -> str:
    if type(moment) is time:  # a configured time of day (the digest's): one of a few, remembered
        return _time_of_day(moment, locale)
    return Text(format_time(moment, "HH:mm", locale=_babel(locale)))


@lru_cache(maxsize=64)
def _time_of_day(moment: time, locale: str) -> str:
    return Text(format_time(moment, "HH:mm", locale=_babel(locale)))


def format_duration(minutes: int, *, locale: str) -> str:
    return Text(format_timedelta(
        timedelta(minutes=minutes), threshold=2, format="long", locale=_babel(locale)
    ))


@lru_cache(maxsize=64)
def weekday_name(short: str, *, locale: str) -> str:
    # 2024-01-01 is a Monday: a fixed date gives Babel the weekday to name.
    return Text(format_date(
        date(2024, 1, 1) + timedelta(days=_WEEKDAY_INDEX[short]), "EEEE", locale=_babel(locale)
    ))


def format_choices(labels: Iterable[str], *, locale: str) -> str:
    """Options as a person lists them: "Yes, Partly or No" / "Ja, Deels of Nee" (Babel's "or"
    list), each label keeping its user spans."""
    parts = list(labels)
    marks = [chr(0xE100 + i) for i in range(len(parts))]  # private use: never in a label
    pattern = format_list(marks, style="or", locale=_babel(locale)) if parts else ""
    out: list[str] = []
    for chunk in re.split(f"([{''.join(marks)}])", pattern) if parts else []:
        out.append(parts[marks.index(chunk)] if chunk in marks else Text(chunk))
    return join("", out)


def format_number(value: float, *, locale: str) -> str:
    return Text(format_decimal(value, locale=_babel(locale)))


def format_ratio(value: float, *, locale: str) -> str:
    return Text(format_percent(value, locale=_babel(locale)))
