"""prompts/: both locales have the same keys, every template renders strictly, Dutch is Dutch,
and a count with a noun takes the plural filter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import Environment, StrictUndefined, meta

from dialogs.text import LOCALES, PROMPTS_DIR, Texts

FILES = sorted({p.name for locale in LOCALES for p in (PROMPTS_DIR / locale).glob("*.yaml")})
# Words that are rightly the same in Dutch and English (the product name, loan words).
SAME_IN_BOTH = {"Closing Coach", "Debrief", "Help"}
# Keys whose values the code reads, not people: the same in every language by design.
MACHINE_READABLE = {"fits"}
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


def is_layout(text: str) -> bool:
    """A template that is only variables and punctuation ("{{ when }} · {{ account }}")."""
    return not _WORD.search(_JINJA.sub("", text))


def load(locale: str, name: str) -> Any:
    return yaml.safe_load((PROMPTS_DIR / locale / name).read_text(encoding="utf-8"))


def shape(node: Any) -> Any:
    """The key structure of a YAML tree: mappings by key, lists by length, leaves as '*'."""
    if isinstance(node, dict):
        return {str(k): shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [shape(v) for v in node]
    return "*"


def leaves(node: Any, trail: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in leaves(v, (*trail, str(k)))]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in leaves(v, (*trail, str(i)))]
    return [(trail, node)]


ENV = Environment(undefined=StrictUndefined, autoescape=False)
# Placeholders are strings, not counts: a stand-in `plural` that keeps both forms in view.
ENV.filters["plural"] = lambda n, one, other, **forms: f"{n} {one}|{other}"


def variables(text: str) -> set[str]:
    return set(meta.find_undeclared_variables(ENV.parse(text)))


def test_there_are_prompt_files() -> None:
    assert {"checklist.yaml", "messages.yaml", "tips.yaml"} <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_both_locales_have_the_file_and_the_same_keys(name: str) -> None:
    for locale in LOCALES:
        assert (PROMPTS_DIR / locale / name).exists(), f"prompts/{locale}/{name} is missing"
    en, nl = load("en", name), load("nl", name)
    assert isinstance(en, dict) and isinstance(nl, dict)
    assert shape(en) == shape(nl), f"prompts/en/{name} and prompts/nl/{name} differ in structure"


@pytest.mark.parametrize("name", FILES)
def test_every_template_renders_strictly_with_the_same_variables(name: str) -> None:
    en = dict(leaves(load("en", name)))
    nl = dict(leaves(load("nl", name)))
    assert en.keys() == nl.keys(), f"prompts/nl/{name} has other keys than prompts/en/{name}"
    for key, en_text in en.items():
        nl_text = nl[key]
        for locale, text in (("en", en_text), ("nl", nl_text)):
            if not isinstance(text, str):
                continue
            names = variables(text)
            rendered = ENV.from_string(text).render(**{n: f"<{n}>" for n in names})
            assert "{{" not in rendered and "{%" not in rendered, (locale, name, key)
        if isinstance(en_text, str) and isinstance(nl_text, str):
            # the code passes one context to both languages: a variable only one side knows
            # would raise under StrictUndefined in that language only
            assert variables(en_text) == variables(nl_text), (name, ".".join(key))


@pytest.mark.parametrize("name", FILES)
def test_dutch_is_not_the_english_text(name: str) -> None:
    en = dict(leaves(load("en", name)))
    nl = dict(leaves(load("nl", name)))
    same = [
        ".".join(k)
        for k, v in en.items()
        if isinstance(v, str)
        and nl.get(k) == v
        and not is_layout(v)
        and not MACHINE_READABLE & set(k)
        and _JINJA.sub("", v).strip() not in SAME_IN_BOTH
    ]
    assert same == [], f"prompts/nl/{name} has English texts: {same}"


def test_texts_loads_and_validates_both_locales() -> None:
    texts = Texts()
    for locale in LOCALES:
        texts.validate(locale)
        assert texts.message(locale, "tips_title")
    assert texts.message("en", "saved", account="Acme", when="now") != texts.message(
        "nl", "saved", account="Acme", when="now"
    )


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        Texts().message("en", "saved", account="Acme")


def test_a_locale_missing_a_needed_text_fails_at_start(tmp_path: Path) -> None:
    import shutil

    from storage.errors import ConfigError

    for locale in LOCALES:
        shutil.copytree(PROMPTS_DIR / locale, tmp_path / locale)
    shutil.copy(PROMPTS_DIR / "coaching_rules.yaml", tmp_path)
    checklist = tmp_path / "nl" / "checklist.yaml"
    data = yaml.safe_load(checklist.read_text(encoding="utf-8"))
    del data["points"]["situation"]["question"]
    checklist.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"checklist\.yaml: key 'points\.situation\.question'"):
        Texts(tmp_path)


def test_every_tactic_fits_known_tags_the_same_in_both_locales(tmp_path: Path) -> None:
    import shutil

    from dialogs.tactic_fit import FIT_TAGS
    from storage.errors import ConfigError

    en, nl = load("en", "tactics.yaml"), load("nl", "tactics.yaml")
    assert {k: v["fits"] for k, v in en.items()} == {k: v["fits"] for k, v in nl.items()}
    assert all(v["fits"] and set(v["fits"]) <= set(FIT_TAGS) for v in en.values())
    assert set(FIT_TAGS) <= {tag for v in en.values() for tag in v["fits"]}, "a tag no tactic fits"
    shutil.copytree(PROMPTS_DIR, tmp_path, dirs_exist_ok=True)  # the shared rules files too
    tactics = tmp_path / "nl" / "tactics.yaml"
    data = yaml.safe_load(tactics.read_text(encoding="utf-8"))
    data["time_check"]["fits"] = ["short_slot", "long_lunch"]
    tactics.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    unknown = r"nl/tactics\.yaml: key 'time_check\.fits': unknown tags long_lunch"
    with pytest.raises(ConfigError, match=unknown):
        Texts(tmp_path)
    data["time_check"]["fits"] = ["short_slot"]
    tactics.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nl/tactics\.yaml: the tactics or their fits differ"):
        Texts(tmp_path)


# -- counts with a noun: `{{ n | plural(one, other) }}` --------------------------------------------
# (file, key, the count, the other variables, en forms, nl forms); None where a language has no noun
PLURALS: list[tuple[str, str, str, dict[str, Any], tuple[str, str] | None, tuple[str, str] | None]] = [
    ("digest", "summary_reps", "reps", {"debriefs": 5, "previous": 4},
     ("rep filed", "reps filed"), ("verkoper vulde", "verkopers vulden")),
    ("digest", "summary_reps", "debriefs", {"reps": 5, "previous": 4},
     ("debrief", "debriefs"), ("debrief", "debriefs")),
    ("digest", "debriefs", "debriefs", {"previous": 4}, ("debrief", "debriefs"), ("debrief", "debriefs")),
    ("digest", "concessions", "given", {"got": 0}, ("debrief", "debriefs"), ("debrief", "debriefs")),
    ("digest", "channel_too_small", "minimum", {"reps": 0}, ("rep", "reps"), ("verkoper", "verkopers")),
    ("digest", "export_ready", "rows", {"tables": 3}, ("row", "rows"), ("regel", "regels")),
    ("digest", "export_ready", "tables", {"rows": 3}, ("table", "tables"), ("tabel", "tabellen")),
    ("digest", "forget_confirm", "debriefs", {}, ("debrief", "debriefs"), ("debrief", "debriefs")),
    ("digest", "forget_done", "rows", {}, ("row", "rows"), ("regel", "regels")),
    ("messages", "account_too_long", "length", {"limit": 80},
     ("character", "characters"), ("teken", "tekens")),
    ("messages", "account_too_long", "limit", {"length": 81}, None, ("teken", "tekens")),
    ("messages", "too_long", "length", {"limit": 2000}, ("character", "characters"), ("teken", "tekens")),
    ("messages", "next_edit", "days", {}, ("day", "days"), ("dag", "dagen")),
    ("messages", "history_edit_hint", "days", {}, ("day", "days"), ("dag", "dagen")),
    ("messages", "edit_window_closed", "days", {"when": "Tue 1 Dec 2026"}, ("day", "days"), ("dag", "dagen")),
    ("slack", "home_profile", "count", {}, ("debrief", "debriefs"), ("debrief", "debriefs")),
]


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts()


@pytest.mark.parametrize("n", [0, 1, 2, 21])
@pytest.mark.parametrize(("file", "key", "count", "context", "en", "nl"), PLURALS,
                         ids=[f"{f}.{k}.{c}" for f, k, c, *_ in PLURALS])
def test_a_count_takes_the_noun_form_of_its_number(
    texts: Texts, n: int, file: str, key: str, count: str, context: dict[str, Any],
    en: tuple[str, str] | None, nl: tuple[str, str] | None,
) -> None:
    for locale, forms in (("en", en), ("nl", nl)):
        if forms is None:
            continue
        one, other = forms
        rendered = texts.render(locale, file, key, **{**context, count: n})
        right, wrong = (one, other) if n == 1 else (other, one)  # en and nl: one for 1 only
        assert re.search(rf"(?<!\d){n} {re.escape(right)}\b", rendered), (locale, rendered)
        assert not re.search(rf"(?<!\d){n} {re.escape(wrong)}\b", rendered), (locale, rendered)


_PLURAL_CALL = re.compile(r"""\|\s*plural\(\s*(['"])(.+?)\1\s*,\s*(['"])(.+?)\3""")
_BARE_COUNT = re.compile(r"(?:{{\s*\w+\s*}}|(?<![\w.])\d+)\s+([^\W\d_]+)")
_HAND_PLURAL = re.compile(r"{{\s*'[^']*'\s+if\s+\w+\s*!=\s*1|if\s+\w+\s*[!=]=\s*1\b")
# Nouns that are counted in our texts, in both forms; those the plural filter is given join them.
COUNTED = {"debrief", "debriefs", "meeting", "meetings", "afspraak", "afspraken", "vergadering",
           "vergaderingen", "rep", "reps", "verkoper", "verkopers", "deal", "deals", "day", "days",
           "dag", "dagen", "week", "weeks", "weken", "row", "rows", "regel", "regels", "table",
           "tables", "tabel", "tabellen", "character", "characters", "teken", "tekens"}


def all_templates() -> list[tuple[str, str, str]]:
    return [(f"{locale}/{name}", ".".join(key), text)
            for locale in LOCALES for name in FILES
            for key, text in leaves(load(locale, name)) if isinstance(text, str)]


def test_no_count_is_followed_by_a_noun_without_the_plural_filter() -> None:
    templates = all_templates()
    counted = COUNTED | {
        word.casefold()
        for *_, text in templates for m in _PLURAL_CALL.finditer(text) for word in (m[2], m[4])
        for word in word.split()[:1]
    }
    bare = [
        (where, key, m[0])
        for where, key, text in templates
        for m in _BARE_COUNT.finditer(text)
        if m[1].casefold() in counted
    ]
    assert bare == [], "a count with a noun: use {{ n | plural('one', 'other') }}"
    hand_made = [(where, key) for where, key, text in templates if _HAND_PLURAL.search(text)]
    assert hand_made == [], "a plural made by hand: use the plural filter"


def test_the_scan_finds_a_bare_count() -> None:
    assert _BARE_COUNT.search("last {{ count }} debriefs")[1] == "debriefs"  # type: ignore[index]
    assert _BARE_COUNT.search("in 3 weken")[1] == "weken"  # type: ignore[index]
    assert _BARE_COUNT.search("{{ count | plural('debrief', 'debriefs') }}") is None
    assert _HAND_PLURAL.search("debrief{{ 's' if debriefs != 1 }}")
