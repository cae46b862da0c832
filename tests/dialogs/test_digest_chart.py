"""The digest chart: a valid PNG whose cell labels, colour bar and axes say the same as the figures."""

from __future__ import annotations

import io
import re

import numpy as np
from matplotlib.colors import to_hex
from PIL import Image

from dialogs.digest import compute_digests
from dialogs.digest_chart import chart_alt_text, chart_figure, chart_png
from dialogs.digest_render import digest_replies
from dialogs.text import default_texts
from storage.digest_queries import Period
from tests.digest_history import seed_coaching, seed_history


async def _digest(db, clock, manager_id):
    async with db() as session:
        (digest,) = await compute_digests(
            session=session, period=Period.ending(clock()), manager_ids=[manager_id]
        )
    return digest


def _texts(ax, gid):
    return [t for t in ax.texts if t.get_gid() == gid]


async def test_heatmap_cells_and_colour_bar_agree(db, clock):
    h = await seed_coaching(db)
    d = await _digest(db, clock, h.manager.id)
    fig = chart_figure(d, default_texts())
    heat, trend, bar = fig.axes
    (image,) = heat.get_images()
    values = np.ma.filled(image.get_array(), np.nan)
    assert values.shape == (3, 8)  # Rita, Sem, Team × eight weeks
    assert [t.get_text() for t in heat.get_yticklabels()] == ["Rita Roos", "Sem Smit", "Team"]
    # weeks ending on the digest's weekday (Monday), labelled by that last day
    assert [t.get_text() for t in heat.get_xticklabels()] == [
        "12 Oct",
        "19 Oct",
        "26 Oct",
        "2 Nov",
        "9 Nov",
        "16 Nov",
        "23 Nov",
        "30 Nov",
    ]
    assert heat.get_xlabel() == "Weeks ending on Monday"
    # every cell: its label is the share drawn in it and the debriefs behind it
    cells = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in _texts(heat, "cell")
    }
    assert len(cells) == 24
    for (y, x), label in cells.items():
        week = (d.reps[y].weeks if y < 2 else d.weeks)[x]
        if week.debriefs == 0:
            assert label == "no debriefs" and np.isnan(values[y, x])
        else:
            share, n = re.fullmatch(r"(\d+)%\nn=(\d+)", label).groups()
            assert int(share) == round(values[y, x]) == round(week.score * 100) and int(n) == week.debriefs
    # by hand: Rita's last week R15 y, R16 n, R17 y, R18 p, R19 y on opening, the rest yes: 23.5/25
    assert cells[(0, 7)] == "94%\nn=5" and cells[(1, 7)] == "95%\nn=2" and cells[(2, 7)] == "94%\nn=7"
    assert cells[(1, 1)] == "90%\nn=2"  # S9 yyyyy, S10 nyyyy
    assert cells[(0, 2)] == cells[(1, 2)] == cells[(2, 2)] == "no debriefs"  # the week to 26 Oct 09:00
    # the colour bar is in the cells' unit
    assert image.get_clim() == (0, 100)
    assert [t.get_text() for t in bar.get_yticklabels()] == ["0%", "25%", "50%", "75%", "100%"]
    assert list(bar.get_yticks()) == [0, 25, 50, 75, 100]
    # the second panel: win rate per month, n per point, the 1-in-10 start and 3-in-10 aim
    assert [t.get_text() for t in trend.get_xticklabels()] == [
        "Jun 2026",
        "Jul 2026",
        "Aug 2026",
        "Sept 2026",
        "Oct 2026",
        "Nov 2026",  # en_GB
    ]
    assert [t.get_text() for t in _texts(trend, "month")] == ["no deals"] * 3 + ["n=15", "n=6", "n=11"]
    line = trend.get_lines()[0]
    assert np.allclose(line.get_ydata()[3:], [40.0, 100 / 3, 400 / 11])
    assert sorted(ln.get_ydata()[0] for ln in trend.get_lines() if ln.get_linestyle() in (":", "--")) == [
        10,
        30,
    ]
    assert [t.get_text() for t in trend.get_legend().get_texts()] == [
        "Start 1 in 10",
        "Aim 3 in 10",
        "open circle: fewer than 5 deals",
    ]


async def test_same_colours_in_both_locales_and_few_deals_drawn_open(db, clock):
    h = await seed_history(db)
    en = await _digest(db, clock, h.manager.id)
    from dataclasses import replace

    nl = replace(en, locale="nl")
    figures = [chart_figure(d, default_texts()) for d in (en, nl)]
    rgba = [f.axes[0].get_images()[0].to_rgba(f.axes[0].get_images()[0].get_array()) for f in figures]
    assert np.array_equal(rgba[0], rgba[1])
    colours = [[to_hex(ln.get_color()) for ln in f.axes[1].get_lines()] for f in figures]
    assert colours[0] == colours[1]
    assert [t.get_text() for t in figures[1].axes[0].get_xticklabels()][-1] == "30 nov"
    assert figures[1].axes[0].get_xlabel() == "Weken die eindigen op maandag"
    assert [t.get_text() for t in _texts(figures[1].axes[1], "month")][-1] == "n=4"
    # November: 4 deals, below the minimum of 5: an open circle
    (marker,) = [ln for ln in figures[0].axes[1].get_lines() if len(ln.get_xdata()) == 1]
    assert to_hex(marker.get_markerfacecolor()) == "#ffffff"


async def test_chart_is_a_png_with_alt_text_in_the_message(db, clock):
    h = await seed_coaching(db)
    d = await _digest(db, clock, h.manager.id)
    png = chart_png(d, default_texts())
    image = Image.open(io.BytesIO(png))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and image.format == "PNG" and image.size == (1300, 400)
    grey = image.convert("L")
    lo, hi = grey.getextrema()
    assert hi - lo > 100 and sum(1 for n in grey.histogram() if n) > 10  # drawn, not blank
    chart = digest_replies(default_texts(), d)[-1]
    assert chart.attachment.content[:8] == png[:8] and chart.text == chart_alt_text(d, default_texts())
    assert chart.text.startswith("Chart. Left: each rep's checklist score per week (weeks ending on Monday)")
    assert chart.text.endswith("Nov 2026: 4 of 11 deals won.")
