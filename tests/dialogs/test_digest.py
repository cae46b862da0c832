"""Digest figures over tests/digest_history.py, checked against values worked out by hand."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from dialogs.digest import PointProfile, compute_digests
from dialogs.digest_render import channel_replies, digest_replies
from storage.digest_queries import Period
from tests.digest_history import seed_history

P = PointProfile


async def _digest(db, clock, manager_id, **kw):
    async with db() as session:
        (digest,) = await compute_digests(
            session=session, period=Period.ending(clock()), manager_ids=[manager_id], **kw
        )
    return digest


async def test_figures_match_the_hand_count(db, clock, database_url):
    h = await seed_history(db)
    d = await _digest(db, clock, h.manager.id)
    assert [r.name for r in d.reps] == ["Anna Aalders", "Bram Bos", "Cor Claes"]  # not Dirk, not Eve
    anna, bram, cor = d.reps

    a = anna.figures
    assert (a.debriefs, a.debriefs_previous, a.closed, a.closed_previous) == (3, 2, 1, 0)
    assert a.profile == {
        "opening": P(0, 1, 2),
        "interaction": P(2, 1, 0),
        "situation": P(1, 1, 1),
        "concessions": P(2, 0, 1),
        "next_step": P(2, 1, 0),
    }
    assert a.profile_previous["concessions"] == P(1, 1, 0)
    assert a.close_rate == pytest.approx(1 / 3) and a.close_rate_previous == 0
    assert a.score == pytest.approx(9 / 15) and a.score_previous == pytest.approx(8.5 / 10)
    assert (a.weakest, a.trend) == ("opening", "down")
    assert (a.concessions_given, a.concessions_got) == (2, 1)
    assert [(s.account, s.due.isoformat(), s.what) for s in anna.missed_next_steps] == [
        ("Delta", "2026-11-26", "Call the CFO")
    ]
    assert anna.meetings_without_debrief == ()

    b = bram.figures
    assert (b.debriefs, b.debriefs_previous, b.closed) == (2, 0, 1)
    assert b.close_rate == 0.5 and b.close_rate_previous is None
    assert b.profile["interaction"] == P(1, 0, 1) and b.profile["concessions"] == P(1, 1, 0)
    assert (b.weakest, b.trend) == ("interaction", None)  # ties with situation: the earlier point
    assert [m.account for m in bram.meetings_without_debrief] == ["Zeta"]
    assert bram.missed_next_steps == ()

    assert cor.figures.debriefs == 0 and cor.figures.close_rate is None and cor.figures.weakest is None

    t = d.team
    assert (t.debriefs, t.closed, t.debriefs_previous, t.closed_previous) == (5, 2, 2, 0)
    assert t.close_rate == pytest.approx(0.4)
    assert t.profile == {
        "opening": P(2, 1, 2),
        "interaction": P(3, 1, 1),
        "situation": P(2, 1, 2),
        "concessions": P(3, 1, 1),
        "next_step": P(4, 1, 0),
    }
    assert t.weakest == "opening"
    assert (d.meetings_without_debrief, d.missed_next_steps) == (1, 1)
    assert [(p.debriefs, p.closed) for p in d.trend] == [(0, 0)] * 5 + [(1, 1), (2, 0), (5, 2)]
    assert d.trend[-1].start == Period.ending(clock()).start
    assert notes_absent(d)


def notes_absent(d) -> bool:
    return all(r.notes == () for r in d.reps) and "note" not in json.dumps(d.as_json()["reps"][0]["notes"])


async def test_english_text(db, clock):
    h = await seed_history(db)
    from dialogs.text import default_texts

    replies = digest_replies(default_texts(), await _digest(db, clock, h.manager.id), chart=False)
    summary, anna, bram, cor = replies
    assert summary.title == "Mira Manager's team · Mon 23 Nov 2026 – Mon 30 Nov 2026"
    assert "5 debriefs" in summary.items[0] and "previous period: 2" in summary.items[0]
    assert "No debriefs this period from: Cor Claes." in summary.items
    assert "Close rate: 2 of 5 closed (40%) — about 4 in 10; previous period 0%." in summary.items
    assert "Customer meetings without a debrief: 1." in summary.items
    assert "Next steps that did not happen: 1." in summary.items
    assert "Opening commitment: 0 · 1 · 2" in anna.items
    assert "Weakest point: Opening commitment." in anna.items
    assert any(i.startswith("Action point: Ask Anna Aalders to contact the customer") for i in anna.items)
    assert "Checklist score 60%, down from 85% the period before." in anna.items
    assert any("Delta" in i and "Thu 26 Nov 2026" in i for i in anna.items)
    assert any(i.startswith("No debrief yet: Zeta, Wed 25 Nov 2026, 14:00") for i in bram.items)
    assert cor.items == ("No debriefs this period (previous period: 0).",)
    assert not any("note" in i.casefold() for r in replies for i in r.items)


async def test_dutch_text_and_notes_when_shared(db, clock):
    from dialogs.text import default_texts

    h = await seed_history(db, manager_locale="nl")
    d = await _digest(db, clock, h.manager.id, share_notes=True)
    summary, anna, *_ = digest_replies(default_texts(), d, chart=False)
    assert summary.title == "Team van Mira Manager · ma 23 nov 2026 – ma 30 nov 2026"
    assert (
        "Scoringspercentage: 2 van de 5 gesloten (40%) — ongeveer 4 op de 10; vorige periode 0%."
        in summary.items
    )
    assert "Klantgesprekken zonder debrief: 1." in summary.items
    assert "Volgende stappen die niet gebeurd zijn: 1." in summary.items
    assert "Zwakste punt: Commitment bij de opening." in anna.items
    assert "Checklistscore 60%, omlaag van 85% in de periode ervoor." in anna.items
    assert any(i.startswith("Notitie bij") for i in anna.items)
    assert len(d.reps[0].notes) == 15  # three debriefs, five notes each


async def test_chart_is_a_png(db, clock):
    from dialogs.text import default_texts

    h = await seed_history(db)
    replies = digest_replies(default_texts(), await _digest(db, clock, h.manager.id))
    attachment = replies[-1].attachment
    png = attachment.content
    assert attachment.mime_type == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 400)
    lo, hi = image.convert("L").getextrema()
    assert len(image.convert("L").histogram()) == 256 and hi - lo > 100  # drawn, not blank
    assert sum(1 for n in image.convert("L").histogram() if n) > 10


async def test_json_preview_shape(db, clock):
    h = await seed_history(db)
    data = json.loads(json.dumps((await _digest(db, clock, h.manager.id)).as_json()))
    assert data["summary"]["close_rate"] == 0.4 and data["summary"]["reps"] == 3
    assert data["reps"][0]["profile"]["opening"] == {"yes": 0, "partly": 1, "no": 2}
    assert data["reps"][1]["meetings_without_debrief"][0]["account"] == "Zeta"


async def test_channel_digest_needs_three_reps_and_shows_no_names(db, clock):
    from dialogs.text import default_texts

    h = await seed_history(db)
    (reply,) = channel_replies(default_texts(), await _digest(db, clock, h.manager.id))
    text = " ".join([reply.title or "", *reply.items])
    assert "team totals only" in text and "Anna" not in text and "Zeta" not in text and "Delta" not in text
    (small,) = channel_replies(default_texts(), await _digest(db, clock, h.olaf.id))
    assert small.kind == "error" and "at least 3 reps" in small.text


def test_both_locales_have_every_digest_text():
    from dialogs.checklist import POINTS
    from dialogs.text import default_texts

    def keys(node, prefix=""):
        out = set()
        for k, v in node.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    texts = default_texts()
    en, nl = keys(texts.data("en", "digest")), keys(texts.data("nl", "digest"))
    assert en == nl
    assert {f"actions.{p}" for p in POINTS} <= en
    for locale in ("en", "nl"):
        for p in POINTS:
            assert "Anna" in texts.render(locale, "digest", f"actions.{p}", name="Anna")
