"""prompts/: both locales have the same keys, every template renders strictly, Dutch is Dutch."""

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
    checklist = tmp_path / "nl" / "checklist.yaml"
    data = yaml.safe_load(checklist.read_text(encoding="utf-8"))
    del data["points"]["situation"]["question"]
    checklist.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"checklist\.yaml: key 'points\.situation\.question'"):
        Texts(tmp_path)
