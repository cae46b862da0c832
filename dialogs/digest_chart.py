"""The digest chart: each rep's checklist score per week beside the team's win rate per month.

Left, a heatmap: one row per rep (and the team), one column per week ending on the digest's
weekday; each cell shows the score as a percentage and n, the debriefs behind it; a week without
debriefs is drawn as "no debriefs". The colour bar is in the cells' unit (0–100%). Right, the
team's win rate per deal per calendar month against the method's start (1 in 10) and aim
(3 in 10), n concluded deals per point; an open circle where n is below MIN_DEALS.

Drawn with matplotlib's Agg canvas directly (no pyplot, no global backend state), so it is safe
in any thread and never needs a display. Colours are constants: the same in every locale.
"""

from __future__ import annotations

import io
import math
from zoneinfo import ZoneInfo

from babel.dates import format_date
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dialogs.digest import Digest, WeekCell
from dialogs.digest_figures import MIN_DEALS
from dialogs.text import Texts, babel_locale, format_ratio

DPI = 100
HEAT_COLOURS = "RdYlGn"
EMPTY_COLOUR = "#e6e6e6"
LINE_COLOUR = "#1f5fa8"
START_COLOUR = "#7f7f7f"
AIM_COLOUR = "#2e8b57"
PERCENT_TICKS = (0, 25, 50, 75, 100)


def _label(texts: Texts, loc: str, key: str, **ctx: object) -> str:
    return texts.render(loc, "digest", f"chart.{key}", **ctx)


def _weekday(digest: Digest) -> str:
    end = digest.period_end.astimezone(ZoneInfo(digest.timezone))
    return format_date(end.date(), "EEEE", locale=babel_locale(digest.locale))


def _week_label(cell: WeekCell, digest: Digest) -> str:
    end = cell.end.astimezone(ZoneInfo(digest.timezone))
    return format_date(end.date(), "d MMM", locale=babel_locale(digest.locale))


def _month_label(digest: Digest, index: int) -> str:
    return format_date(digest.months[index].start.date(), "MMM y", locale=babel_locale(digest.locale))


def percent(value: float, loc: str) -> str:
    """A share 0..1 as the chart writes it, in cells and on the colour bar alike."""
    return format_ratio(value, locale=loc)


def chart_figure(digest: Digest, texts: Texts) -> Figure:
    loc = digest.locale
    rows = [(r.name, r.weeks) for r in digest.reps]
    rows.append((_label(texts, loc, "team"), digest.weeks))
    height = max(4.0, 1.8 + 0.42 * len(rows))
    fig = Figure(figsize=(13, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    heat, trend = fig.subplots(1, 2, width_ratios=[3, 2])

    weeks = digest.weeks
    values = [[math.nan if c.score is None else c.score * 100 for c in cells] for _, cells in rows]
    cmap = colormaps[HEAT_COLOURS].with_extremes(bad=EMPTY_COLOUR)
    image = heat.imshow(values, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    heat.set_xticks(range(len(weeks)), [_week_label(c, digest) for c in weeks], fontsize=8)
    heat.set_yticks(range(len(rows)), [name for name, _ in rows], fontsize=9 if len(rows) < 25 else 7)
    heat.axhline(len(rows) - 1.5, color="white", linewidth=3)  # the team row apart from the reps
    size = 8 if len(rows) <= 15 else (6 if len(rows) <= 35 else 5)
    no_data = _label(texts, loc, "no_data")
    for y, (_, cells) in enumerate(rows):
        for x, cell in enumerate(cells):
            score = cell.score
            if score is None:
                heat.text(
                    x, y, no_data, ha="center", va="center", fontsize=size - 1, color="#555555", gid="cell"
                )
                continue
            dark = score < 0.2 or score > 0.8  # the colour map's dark ends
            heat.text(
                x,
                y,
                f"{percent(score, loc)}\nn={cell.debriefs}",
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "#222222",
                gid="cell",
            )
    heat.set_xlabel(_label(texts, loc, "weeks", weekday=_weekday(digest)), fontsize=9)
    heat.set_title(_label(texts, loc, "heatmap"), fontsize=10)
    bar = fig.colorbar(image, ax=heat, shrink=0.8)
    bar.set_ticks(list(PERCENT_TICKS), labels=[percent(v / 100, loc) for v in PERCENT_TICKS])
    bar.set_label(_label(texts, loc, "colorbar"), fontsize=9)

    _trend(trend, digest, texts)
    return fig


def _trend(ax: Axes, digest: Digest, texts: Texts) -> None:
    loc = digest.locale
    xs = list(range(len(digest.months)))
    rates = [m.deals.won / m.deals.concluded * 100 if m.deals.concluded else math.nan for m in digest.months]
    ax.plot(xs, rates, color=LINE_COLOUR, linewidth=1.5, zorder=2)
    for x, m, r in zip(xs, digest.months, rates, strict=True):
        if math.isnan(r):
            ax.text(
                x,
                1.5,
                _label(texts, loc, "no_deals"),
                ha="center",
                va="bottom",
                fontsize=7,
                color="#555555",
                rotation=90,
                gid="month",
            )
            continue
        enough = m.deals.concluded >= MIN_DEALS
        ax.plot(
            [x],
            [r],
            marker="o",
            markersize=7,
            color=LINE_COLOUR,
            markerfacecolor=LINE_COLOUR if enough else "white",
            zorder=3,
        )
        ax.annotate(
            f"n={m.deals.concluded}",
            (x, r),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=7,
            gid="month",
        )
    ax.axhline(10, color=START_COLOUR, linestyle=":", label=_label(texts, loc, "start"))
    ax.axhline(30, color=AIM_COLOUR, linestyle="--", label=_label(texts, loc, "goal"))
    ax.plot(
        [],
        [],
        marker="o",
        linestyle="",
        color=LINE_COLOUR,
        markerfacecolor="white",
        label=_label(texts, loc, "too_few", minimum=MIN_DEALS),
    )
    top = min(100.0, max([50.0, *(r + 8 for r in rates if not math.isnan(r))]))
    ticks = list(range(0, int(top) + 1, 10))
    ax.set_ylim(0, top)
    ax.set_yticks(ticks, labels=[percent(v / 100, loc) for v in ticks])
    ax.set_xticks(xs, [_month_label(digest, i) for i in xs], rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_title(_label(texts, loc, "trend"), fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)


def chart_png(digest: Digest, texts: Texts) -> bytes:
    buffer = io.BytesIO()
    chart_figure(digest, texts).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def chart_alt_text(digest: Digest, texts: Texts) -> str:
    """What the chart shows, in words: the message text that goes with the image."""
    loc = digest.locale
    last = ""
    if digest.months:
        month = digest.months[-1]
        last = texts.render(
            loc,
            "digest",
            "chart_alt_last",
            month=_month_label(digest, len(digest.months) - 1),
            won=month.deals.won,
            concluded=month.deals.concluded,
        )
    return texts.render(loc, "digest", "chart_alt", weekday=_weekday(digest), last=last)
