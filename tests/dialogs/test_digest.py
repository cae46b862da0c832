"""Digest figures over tests/digest_history.py, checked against values worked out by hand."""

from __future__ import annotations

import json

import pytest

from dialogs.digest import compute_digests
from dialogs.digest_figures import Deals, PointEvidence, PointProfile, wilson
from dialogs.digest_render import channel_replies, digest_replies
from dialogs.text import default_texts
from storage.digest_queries import Period
from tests.digest_history import seed_coaching, seed_history

P = PointProfile
E = PointEvidence


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
    assert (a.debriefs, a.debriefs_previous) == (3, 2)
    # Anna's deals this period: Acme (11-18 next step, 11-24 closed: one deal, won over two
    # meetings; 11-10 closed an earlier one) and Kappa (lost); none concluded the period before
    assert (a.deals, a.deals_previous) == (Deals(won=1, lost=1), Deals())
    assert a.deals.win_rate is None  # 2 concluded deals: too few to tell
    assert (a.closing, a.closing_rate) == (2, pytest.approx(2 / 3))  # closed + next step of 3
    assert a.profile == {
        "opening": P(0, 1, 2),
        "interaction": P(2, 1, 0),
        "situation": P(1, 1, 1),
        "concessions": P(2, 0, 1),
        "next_step": P(2, 1, 0),
    }
    assert a.profile_previous["concessions"] == P(1, 1, 0)
    assert a.score == pytest.approx(9 / 15) and a.score_previous == pytest.approx(8.5 / 10)
    assert (a.weakest, a.trend) == ("opening", "down")
    assert (a.concessions_given, a.concessions_got) == (2, 1)
    assert [(s.account, s.due.isoformat(), s.what) for s in anna.missed_next_steps] == [
        ("Delta", "2026-11-26", "Call the CFO")
    ]
    assert anna.meetings_without_debrief == ()

    b = bram.figures
    assert (b.debriefs, b.debriefs_previous, b.deals, b.closing) == (2, 0, Deals(1, 0), 2)
    assert b.closing_rate == 1.0
    assert b.profile["interaction"] == P(1, 0, 1) and b.profile["concessions"] == P(1, 1, 0)
    assert (b.weakest, b.trend) == ("interaction", None)  # ties with situation: the earlier point
    assert [m.account for m in bram.meetings_without_debrief] == ["Zeta"]
    assert bram.missed_next_steps == ()

    assert cor.figures.debriefs == 0 and cor.figures.closing_rate is None and cor.figures.weakest is None

    t = d.team
    assert (t.debriefs, t.debriefs_previous, t.deals, t.deals_previous) == (5, 2, Deals(2, 1), Deals())
    assert t.deals.win_rate is None and (t.closing, t.closing_rate) == (4, 0.8)
    assert t.profile == {
        "opening": P(2, 1, 2),
        "interaction": P(3, 1, 1),
        "situation": P(2, 1, 2),
        "concessions": P(3, 1, 1),
        "next_step": P(4, 1, 0),
    }
    assert t.weakest == "opening"
    assert (d.meetings_without_debrief, d.missed_next_steps) == (1, 1)
    # the weekly grid: debriefs per week, oldest first, and the team's score in them
    assert [w.debriefs for w in d.weeks] == [0] * 5 + [1, 2, 5]
    assert [w.score for w in d.weeks[-3:]] == [1.0, pytest.approx(8.5 / 10), pytest.approx(16.5 / 25)]
    assert d.weeks[-1].end == clock() and d.weeks[0].score is None
    # deals per month: in November Anna's Acme twice and Bram's Acme won, Anna's Kappa lost
    assert [m.start.strftime("%Y-%m") for m in d.months] == [f"2026-{m:02d}" for m in range(6, 12)]
    assert [m.deals for m in d.months] == [Deals()] * 5 + [Deals(3, 1)]
    # the evidence over those four deals (Acme 11-18 + 11-24: opening y, n = exactly ½, not well)
    assert d.evidence == {
        "opening": E(well_won=2, well_n=2, weak_won=1, weak_n=2),
        "interaction": E(3, 3, 0, 1),  # Kappa: partly
        "situation": E(3, 4, 0, 0),  # Acme 11-18 + 11-24: y, p = ¾, well
        "concessions": E(3, 4, 0, 0),
        "next_step": E(3, 3, 0, 1),
    }
    assert all(e.interval is None for e in d.evidence.values())  # below 10 deals a side
    assert notes_absent(d)


async def test_action_points_are_built_from_each_reps_own_debriefs(db, clock, database_url):
    h = await seed_history(db)
    d = await _digest(db, clock, h.manager.id)
    anna, bram, cor = d.reps
    # Anna since 11-02 09:00: six meetings; opening y, y, y, n, p, n is her weakest point, and no
    # agenda was recorded, so the pattern is the point's own rating: 3 of 6, Kappa the latest
    assert (anna.action_point.point, anna.action_point.pattern) == ("opening", "rating:opening")
    assert (anna.action_point.count, anna.action_point.meetings) == (3, 6)
    assert anna.action_point.example.account == "Kappa"
    # Bram: interaction y, n and situation y, n tie; the earlier point, 1 of 2, Noord
    assert (bram.action_point.pattern, bram.action_point.count, bram.pattern_meetings) == (
        "rating:interaction",
        1,
        2,
    )
    assert bram.action_point.example.account == "Noord"
    assert cor.action_point is None and cor.pattern_meetings == 0
    assert anna.action_point.text != bram.action_point.text


async def test_coaching_figures_match_the_hand_count(db, clock, database_url):
    h = await seed_coaching(db)
    d = await _digest(db, clock, h.manager.id)
    rita, sem = d.reps
    # the counts are worked out next to COACHING_DEBRIEFS in tests/digest_history.py
    assert (d.team.deals, d.team.deals.win_rate) == (Deals(3, 3), 0.5)
    assert (d.team.deals_previous, d.team.deals_previous.win_rate) == (Deals(1, 4), 0.2)
    assert (rita.figures.deals, rita.figures.deals.win_rate) == (Deals(3, 2), 0.6)
    assert (sem.figures.deals, sem.figures.deals.win_rate) == (Deals(0, 1), None)
    assert (d.team.closing, d.team.debriefs) == (4, 7)
    assert (rita.figures.closing, rita.figures.debriefs, sem.figures.closing, sem.figures.debriefs) == (
        3,
        5,
        1,
        2,
    )
    assert [m.deals for m in d.months] == [Deals()] * 3 + [Deals(6, 9), Deals(2, 4), Deals(4, 7)]

    opening = d.evidence["opening"]
    assert opening == E(well_won=8, well_n=17, weak_won=4, weak_n=15)
    # 8/17 = .4706, Wilson [.2617, .6904]; 4/15 = .2667, Wilson [.1090, .5195]; Newcombe:
    # d = .2039, low = d − √((.4706 − .2617)² + (.5195 − .2667)²),
    # high = d + √((.6904 − .4706)² + (.2667 − .1090)²)
    assert wilson(8, 17) == (pytest.approx(0.26165, abs=1e-4), pytest.approx(0.69037, abs=1e-4))
    interval = opening.interval
    assert interval.method == "newcombe"
    assert (interval.difference, interval.low, interval.high) == (
        pytest.approx(0.20392, abs=1e-4),
        pytest.approx(-0.12407, abs=1e-4),
        pytest.approx(0.47442, abs=1e-4),
    )
    # no weak side for the other points: not shown; the next step only went weakly at S11
    assert d.evidence["interaction"] == E(12, 32, 0, 0) and d.evidence["interaction"].interval is None
    assert d.evidence["next_step"] == E(12, 31, 0, 1) and d.evidence["next_step"].interval is None

    # Rita: 10 meetings since 11-02, opening weakest; the customer set the agenda in 4 of them
    assert (rita.action_point.pattern, rita.action_point.count, rita.action_point.meetings) == (
        "agenda:customer_formal",
        4,
        10,
    )
    assert rita.action_point.example_debrief_id == h.debrief_ids[("R16 Logistics", 11, 25)]
    # Sem: next step weakest (n, p, p of 6); no date in 2 (S11 11-04, S12 11-10), S13 had one
    assert (sem.action_point.pattern, sem.action_point.count, sem.action_point.meetings) == (
        "next_step:no_date",
        2,
        6,
    )
    assert sem.action_point.example_debrief_id == h.debrief_ids[("S12 Logistics", 11, 10)]

    # action points: Rita's is open; Sem's was done on 11-25 (this period), his older one was
    # closed on 10-01 (not this period, not followed)
    assert (
        rita.action_points_open,
        rita.action_points_done,
        sem.action_points_open,
        sem.action_points_done,
    ) == (
        1,
        0,
        0,
        1,
    )
    assert (d.action_points_open, d.action_points_done) == (1, 1)
    # how the targeted pattern moved: Rita's since 11-16 09:00 (R14, R16 of 8 meetings) against
    # the 28 days before (R20 10-26, R12 11-03, R20 11-09: 3 of 3)
    assert rita.progress.action.id == h.rita_action_id and rita.progress.measured == "agenda:customer_formal"
    assert (rita.progress.before.count, rita.progress.before.meetings) == (3, 3)
    assert (rita.progress.since.count, rita.progress.since.meetings) == (2, 8)
    # Sem's since 11-02 10:00: S11 and S12 of 6; before it S8, S9, S10: none of 3
    assert sem.progress.action.id == h.sem_action_id and sem.progress.action.status == "done"
    assert (sem.progress.before.count, sem.progress.before.meetings, sem.progress.since.count) == (0, 3, 2)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, example (a): 56/70 vs 48/80,
    # method 10: 0.0524 to 0.3339
    interval = E(well_won=56, well_n=70, weak_won=48, weak_n=80).interval
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.0524, 0.3339)
    assert E(9, 10, 1, 9).interval is None and E(9, 10, 1, 10).interval is not None


def notes_absent(d) -> bool:
    return all(r.notes == () for r in d.reps) and "note" not in json.dumps(d.as_json()["reps"][0]["notes"])


async def test_english_text_leads_with_the_how(db, clock):
    h = await seed_history(db)
    replies = digest_replies(default_texts(), await _digest(db, clock, h.manager.id), chart=False)
    summary, anna, bram, cor = replies
    assert summary.title == "Mira Manager's team · Mon 23 Nov 2026 – Mon 30 Nov 2026"
    assert summary.items[:3] == (
        "3 reps filed 5 debriefs (previous period: 2).",
        "No debriefs this period from: Cor Claes.",
        "For your coaching: Opening commitment is the team's weakest point this period; "
        "1 rep gets an action point on it below.",
    )
    assert (
        "Win rate per deal: 2 of 3 concluded deals won this period, too few to tell "
        "(a rate needs at least 5)." in summary.items
    )
    assert (
        "Meetings that closed (the customer signed or agreed a concrete next step): 4 of 5 (80%)."
        in summary.items
    )
    assert "Customer meetings without a debrief: 1." in summary.items
    assert "Next steps without follow-up: 1." in summary.items
    assert summary.items[-1].startswith("How this is counted: a deal is an account's run of meetings")
    assert any(
        i.startswith("Your team's own evidence: too few concluded deals since Tue 1 Sept 2026")
        for i in summary.items
    )
    assert (
        "More given than got across the team: make “what did we get back for it?” a question in "
        "your one-to-ones." in summary.items
    )
    # each rep: the action point and the one-to-one question first, then the figures
    assert anna.items[:3] == (
        "Action point on Opening commitment: 3 of 6 meetings since Mon 2 Nov 2026: the opening "
        "commitment went partly or not at all (for example Kappa, Fri 27 Nov 2026).",
        "To send Anna Aalders: “Before each meeting, make informal contact, ask for the customer's "
        "information beforehand and propose your own agenda.”",
        "For your one-to-one, ask Anna Aalders: “Think of Kappa: what did you know about the customer "
        "before the meeting, and what would you like to have known?”",
    )
    assert anna.items[3] == "3 debriefs (previous period: 2)."
    assert bram.items[0].startswith("Action point on Interaction: 1 of 2 meetings since Mon 2 Nov 2026:")
    assert anna.items[0] != bram.items[0] and anna.items[1] != bram.items[1]
    assert "Opening commitment: 0 · 1 · 2" in anna.items
    assert "Checklist score 60%, down (previous period 85%)." in anna.items
    assert "More given than got: ask Anna Aalders what they got back for each concession." in anna.items
    assert any("Delta" in i and "Thu 26 Nov 2026" in i for i in anna.items)
    assert any(i.startswith("No debrief yet: Zeta, Wed 25 Nov 2026, 14:00") for i in bram.items)
    assert cor.items == (
        "No action point to propose: no debriefs from Cor Claes since Mon 2 Nov 2026.",
        "For your one-to-one, ask Cor Claes: “Which customer meetings did you have lately, and which "
        "one shall we debrief together?”",
        "No debriefs this period (previous period: 0).",
    )
    text = " ".join(i for r in replies for i in r.items)
    assert "Note on" not in text and "in 10" not in text.replace("1 in 10", "")
    assert "practise" not in text  # advice to the manager, not the rep's


async def test_dutch_wording(db, clock):
    h = await seed_history(db, manager_locale="nl")
    d = await _digest(db, clock, h.manager.id, share_notes=True)
    summary, anna, *_ = digest_replies(default_texts(), d, chart=False)
    assert summary.title == "Team van Mira Manager · ma 23 nov 2026 – ma 30 nov 2026"
    assert (
        "Afsluitpercentage per deal: 2 van 3 afgeronde deals binnengehaald deze periode, te weinig om "
        "iets over te zeggen (een percentage vraagt er minstens 5)." in summary.items
    )
    assert "Klantgesprekken zonder debrief: 1." in summary.items
    assert "Vervolgstappen zonder opvolging: 1." in summary.items
    assert "Checklistscore 60%, gedaald (vorige periode 85%)." in anna.items
    assert anna.items[0].startswith(
        "Actiepunt op Commitment bij de opening: 3 van 6 gesprekken sinds ma 2 nov 2026:"
    )
    assert any(i.startswith("Notitie bij") for i in anna.items)
    assert len(d.reps[0].notes) == 15  # three debriefs, five notes each
    text = " ".join(i for r in (summary, anna) for i in r.items)
    for old in ("Scoringspercentage", "gesloten (", "omlaag van", "Volgende stappen die niet", "ongeveer"):
        assert old not in text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            {
                "win": "Win rate per deal: 3 of 6 concluded deals won (50%) (previous period 20%).",
                "goal": "At or above the method's aim of 3 in 10: ask the rep with the best run to "
                "show the team what works.",
                "closing": "Meetings that closed (the customer signed or agreed a concrete next "
                "step): 4 of 7 (57%).",
                "evidence": "Opening commitment: 8 of 17 vs 4 of 15, a difference of +20 percentage points "
                "(95% interval −12 to +47, Newcombe's method).",
                "hidden": "Too few deals yet to compare for: Interaction, Current situation, "
                "Concessions, Next step.",
                "caveat": "This is an association in your team's deals, not proof that the point wins them.",
                "actions": "Action points: 1 open, 1 done this period.",
                "rita": "Action point on Opening commitment: 4 of 10 meetings since Mon 2 Nov 2026: "
                "the customer "
                "set the agenda formally, often by mail (for example R16 Logistics, Wed 25 Nov 2026).",
                "rita_win": "Win rate per deal: 3 of 5 concluded deals won (60%).",
                "rita_moved": "Since the action point of Mon 16 Nov 2026 (still open): the customer "
                "set the agenda "
                "formally, often by mail in 2 of 8 meetings; before it in 3 of 3.",
                "sem": "Action point on Next step: 2 of 6 meetings since Mon 2 Nov 2026: the next "
                "step had no "
                "date (for example S12 Logistics, Tue 10 Nov 2026).",
                "sem_moved": "Since the action point of Mon 2 Nov 2026 (done): the next step had no "
                "date in 2 of "
                "6 meetings; before it in 0 of 3.",
                "sem_counts": "Action points: 0 open, 1 done this period.",
            },
        ),
        (
            "nl",
            {
                "win": "Afsluitpercentage per deal: 3 van 6 afgeronde deals binnengehaald (50%) "
                "(vorige periode 20%).",
                "goal": "Op of boven het doel van de methode, 3 op de 10: vraag de verkoper met de "
                "beste reeks om "
                "in het teamoverleg te laten zien wat werkt.",
                "closing": "Gesprekken met een afsluiting (de klant tekende of sprak een concrete "
                "vervolgstap af): "
                "4 van de 7 (57%).",
                "evidence": "Commitment bij de opening: 8 van de 17 tegenover 4 van de 15, een "
                "verschil van +20 "
                "procentpunt (95%-interval −12 tot +47, methode van Newcombe).",
                "hidden": "Nog te weinig deals om te vergelijken voor: Interactie, Huidige "
                "situatie, Concessies, "
                "Volgende stap.",
                "caveat": "Dit is een samenhang in de deals van je team, geen bewijs dat het punt "
                "ze binnenhaalt.",
                "actions": "Actiepunten: 1 open, 1 afgerond deze periode.",
                "rita": "Actiepunt op Commitment bij de opening: 4 van 10 gesprekken sinds ma 2 nov "
                "2026: de klant "
                "bepaalde de agenda formeel, vaak per mail (bijvoorbeeld R16 Logistics, wo 25 nov 2026).",
                "rita_win": "Afsluitpercentage per deal: 3 van 5 afgeronde deals binnengehaald (60%).",
                "rita_moved": "Sinds het actiepunt van ma 16 nov 2026 (staat nog open): de klant "
                "bepaalde de agenda "
                "formeel, vaak per mail in 2 van 8 gesprekken; daarvoor in 3 van de 3.",
                "sem": "Actiepunt op Volgende stap: 2 van 6 gesprekken sinds ma 2 nov 2026: de "
                "vervolgstap had "
                "geen datum (bijvoorbeeld S12 Logistics, di 10 nov 2026).",
                "sem_moved": "Sinds het actiepunt van ma 2 nov 2026 (afgerond): de vervolgstap had "
                "geen datum in 2 "
                "van 6 gesprekken; daarvoor in 0 van de 3.",
                "sem_counts": "Actiepunten: 0 open, 1 afgerond deze periode.",
            },
        ),
    ],
)
async def test_coaching_text_in_both_locales(db, clock, locale, expected):
    h = await seed_coaching(db, manager_locale=locale)
    summary, rita, sem = digest_replies(default_texts(), await _digest(db, clock, h.manager.id), chart=False)
    for key in ("win", "goal", "closing", "evidence", "hidden", "caveat", "actions"):
        assert expected[key] in summary.items, key
    assert summary.items.index(expected["evidence"]) < summary.items.index(expected["caveat"])
    assert rita.items[0] == expected["rita"]
    assert expected["rita_win"] in rita.items and expected["rita_moved"] in rita.items
    assert sem.items[0] == expected["sem"]
    assert expected["sem_moved"] in sem.items and expected["sem_counts"] in sem.items
    assert rita.items[1] != sem.items[1] and rita.items[2] != sem.items[2]


async def test_json_contract(db, clock):
    h = await seed_coaching(db)
    data = json.loads(json.dumps((await _digest(db, clock, h.manager.id)).as_json()))
    rita, sem = data["reps"]
    assert rita["deals"] == {"won": 3, "lost": 2, "win_rate": 0.6}
    assert sem["deals"] == {"won": 0, "lost": 1, "win_rate": None}
    assert rita["meetings"] == {"count": 5, "closing": 3, "closing_rate": 0.6}
    assert set(rita["action_point"]) >= {"text", "pattern", "count", "example_debrief_id"}
    assert rita["action_point"]["pattern"] == "agenda:customer_formal" and rita["action_point"]["count"] == 4
    assert rita["action_point"]["example_debrief_id"] == h.debrief_ids[("R16 Logistics", 11, 25)]
    assert rita["action_point"]["text"].startswith("Before each meeting, call your contact")
    assert (rita["action_points_open"], rita["action_points_done"]) == (1, 0)
    assert (sem["action_points_open"], sem["action_points_done"]) == (0, 1)
    team = data["summary"]
    assert team["deals"] == {"won": 3, "lost": 3, "win_rate": 0.5}
    assert team["meetings"] == {"count": 7, "closing": 4, "closing_rate": pytest.approx(4 / 7)}
    assert (team["action_points_open"], team["action_points_done"]) == (1, 1)
    evidence = team["point_evidence"]
    assert set(evidence) == {"opening", "interaction", "situation", "concessions", "next_step"}
    assert {k: evidence["opening"][k] for k in ("well_won", "well_n", "weak_won", "weak_n")} == {
        "well_won": 8,
        "well_n": 17,
        "weak_won": 4,
        "weak_n": 15,
    }
    assert evidence["opening"]["interval"]["method"] == "newcombe"
    assert evidence["opening"]["interval"]["low"] == pytest.approx(-0.12407, abs=1e-4)
    assert evidence["next_step"] == {
        "well_won": 12,
        "well_n": 31,
        "weak_won": 0,
        "weak_n": 1,
        "interval": None,
    }
    assert [m["month"] for m in team["win_rate_by_month"]][-1] == "2026-11"
    assert team["win_rate_by_month"][-1] == {
        "month": "2026-11",
        "won": 4,
        "lost": 7,
        "win_rate": pytest.approx(4 / 11),
    }


async def test_channel_digest_needs_three_reps_and_shows_no_names(db, clock):
    h = await seed_history(db)
    (reply,) = channel_replies(default_texts(), await _digest(db, clock, h.manager.id))
    text = " ".join([reply.title or "", *reply.items])
    assert "team totals only" in text and "Anna" not in text and "Zeta" not in text and "Delta" not in text
    assert "Kappa" not in text and "Action point" not in text
    (small,) = channel_replies(default_texts(), await _digest(db, clock, h.olaf.id))
    assert small.kind == "error" and "at least 3 reps" in small.text


def test_both_locales_have_every_digest_text():
    from storage.debrief_patterns import PATTERN_POINTS

    def keys(node, prefix=""):
        out = set()
        for k, v in node.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    texts = default_texts()
    en, nl = keys(texts.data("en", "digest")), keys(texts.data("nl", "digest"))
    assert en == nl
    assert {f"patterns.{p}.{k}" for p in PATTERN_POINTS for k in ("seen", "action", "question")} <= en
    for locale in ("en", "nl"):
        for p in PATTERN_POINTS:
            assert "Acme" in texts.render(locale, "digest", f"patterns.{p}.question", account="Acme")
            assert "Acme" not in texts.render(locale, "digest", f"patterns.{p}.question", account="")
