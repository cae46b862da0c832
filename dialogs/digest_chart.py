"""The digest chart as PNG bytes: reps × checklist points heatmap beside the team close-rate trend.

Drawn with matplotlib's Agg canvas directly (no pyplot, no global backend state), so it is safe
in any thread and never needs a display.
"""

from __future__ import annotations

import io
import math

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dialogs.checklist import POINTS
from dialogs.digest import Digest
from dialogs.text import Texts, format_day

DPI = 100


def chart_png(digest: Digest, texts: Texts) -> bytes:
    loc = digest.locale

    def label(key: str) -> str:
        return texts.render(loc, "digest", f"chart.{key}")

    names = [r.name for r in digest.reps] or ["—"]
    height = max(4.0, 1.6 + 0.32 * len(names))
    fig = Figure(figsize=(12, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    heat, trend = fig.subplots(1, 2, width_ratios=[3, 2])

    grid = [[r.figures.profile[p].score for p in POINTS] for r in digest.reps] or [[None] * len(POINTS)]
    values = [[math.nan if v is None else v for v in row] for row in grid]
    cmap = colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    image = heat.imshow(values, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    heat.set_xticks(
        range(len(POINTS)),
        [texts.point(loc, p, "title") for p in POINTS],
        rotation=25,
        ha="right",
        fontsize=9,
    )
    heat.set_yticks(range(len(names)), names, fontsize=9 if len(names) < 25 else 7)
    small = len(names) <= 30
    for y, row in enumerate(grid):
        for x, v in enumerate(row):
            if small:
                text = "–" if v is None else f"{round(v * 100)}"
                dark = v is not None and (v < 0.2 or v > 0.8)  # the colour map's dark ends
                heat.text(
                    x, y, text, ha="center", va="center", fontsize=8, color="white" if dark else "#222222"
                )
    heat.set_title(label("heatmap"), fontsize=10)
    fig.colorbar(image, ax=heat, shrink=0.8)

    xs = list(range(len(digest.trend)))
    rates = [math.nan if t.close_rate is None else t.close_rate * 100 for t in digest.trend]
    trend.plot(xs, rates, marker="o", color="#1f5fa8")
    trend.axhline(10, color="#b0b0b0", linestyle=":", label=label("start"))
    trend.axhline(30, color="#2e8b57", linestyle="--", label=label("goal"))
    trend.set_ylim(0, max([50.0, *(r for r in rates if not math.isnan(r))]))
    trend.set_ylabel("%")
    trend.set_xticks(
        xs,
        [format_day(t.start.date(), locale=loc) for t in digest.trend],
        rotation=35,
        ha="right",
        fontsize=8,
    )
    trend.set_xlabel(label("week"), fontsize=9)
    trend.set_title(label("trend"), fontsize=10)
    trend.legend(fontsize=8, loc="upper left")
    trend.grid(axis="y", alpha=0.3)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
