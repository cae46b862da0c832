"""The rendering corpus: user values to place into every outbound template of both platforms.

`rendered_corpus()` renders each template of prompts/<locale>/*.yaml (every key, nested keys
included) with every one of its variables set to one corpus value, so user text sits exactly
where the bot places it in real messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import yaml
from jinja2 import meta

from dialogs.text import LOCALES, PROMPTS_DIR, Text, default_texts

ORDINARY = "Closed-won. (Q3) 1. a - b C:\\temp R&D a_b *x*"
INJECTION = (
    "<script>alert(1)</script>",
    "<at>x</at>",
    "<!channel>",
    "<@U123>",
    "<https://evil.example|click>",
    "[x](http://e)",
    "- item",
    "1. item",
    "+ item",
    "first\n- item\n1. item\n  * star",
)
MARKUP = "**bold** __u__ ~~s~~ `code` # h > q | t {x} ! a\\*b C:\\(x) [y]"
DUTCH = "Afspraak met Jansen & Zn. — offerte ‘vóór’ vrijdag, één pilot"
EMOJI = "Deal 🎉👍🏽 done ✅ — 🇳🇱"
CORPUS: tuple[str, ...] = (ORDINARY, *INJECTION, MARKUP, DUTCH, EMOJI)


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(node, str):
        yield path, node


@cache
def templates() -> tuple[tuple[str, str, str, frozenset[str]], ...]:
    """(locale, file, dotted key, variables) of every template in prompts/."""
    env = default_texts().env
    out = []
    for loc in LOCALES:
        for path in sorted((PROMPTS_DIR / loc).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for keys, source in _leaves(data):
                names = frozenset(meta.find_undeclared_variables(env.parse(source)))
                out.append((loc, path.stem, ".".join(keys), names))
    return tuple(out)


def rendered_corpus(value: str) -> list[tuple[str, Text]]:
    """(template name, rendered Text) of every template with every variable set to `value`."""
    texts = default_texts()
    out = []
    for loc, file, key, names in templates():
        text = texts.render(loc, file, key, **dict.fromkeys(names, value))
        assert isinstance(text, Text)
        out.append((f"{loc}/{file}/{key}", text))
    return out
