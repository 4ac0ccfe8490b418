"""Charts drawn on the server: one renderer for the pages, the PDF and the Word document.

Why on the server: WeasyPrint runs no JavaScript and a Word document holds pictures, so a
chart drawn in the browser would be missing from two of the three places it must appear.
Each chart is drawn from a plain, JSON-able *spec* (``reports.series.chart_spec`` makes
one from a measure's figures), so a published report's snapshot can redraw exactly the
chart it was published with.

The history chart shows the figures as a line, the target as a dashed line, the tolerance
band shaded, comparators as markers (hollow where not directly comparable), series breaks
as dotted vertical lines, periods with no data hatched, gaps left as gaps (the line is
split, never joined across them), and a lagged latest figure labelled "as at".

The statistical process control (XmR) chart is drawn over it from the spec's ``spc``
part: each segment's mean (solid) and process limits (solid once fixed, dashed while
provisional) over that segment's own periods, so earlier limits stay on the chart after a
series break or a rebase; the limits a rebase replaced continue, dotted, across it; a
rebase is a dash-dot vertical line labelled with its reason; and a special-cause point is
marked by a shape as well as a colour: a triangle pointing up (improving), down
(concerning), or a diamond (neither better nor worse).

SVG output is deterministic (a fixed ``svg.hashsalt`` and no date in the metadata), so
the same figures always give the same bytes, and accessible: ``role="img"`` with a
``<title>`` and ``<desc>`` inside the ``<svg>``, named by ``aria-labelledby``, and labelled
axes. Every id inside is prefixed with the chart's own id, so several charts can share a
page. The same figure is saved as PNG for the Word document.

The dashboard's sparkline is a few lines of SVG written directly (no matplotlib): sixty of
them on a page must cost microseconds, not a tenth of a second each.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from functools import lru_cache
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; chosen before anything imports pyplot

from matplotlib import dates as mdates  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = ["history_png", "history_svg", "sparkline_svg"]

# Colours with at least 3:1 contrast on white (WCAG 1.4.11); line styles and markers repeat
# what colour says, so nothing depends on colour alone.
INK = "#0b0c0c"
SERIES = "#1c4f5e"
TARGET = "#b3261e"
BAND = "#f6d878"
GAP = "#505a5f"
COMPARATOR_COLOURS = ("#6f3c91", "#005a30", "#8c4a00", "#2b5a9b", "#5b1f69")
# Triangles and diamonds are the special-cause marks: comparators take other shapes.
COMPARATOR_MARKERS = ("s", "P", "X", "p", "h")
MEAN = "#383f43"
LIMIT = "#6f777b"
REBASE = "#0b0c0c"
# Special-cause marks: shape, colour and legend words by the point's reading (kpis.spc).
SIGNAL_MARKS = {
    "special_cause_improving": ("^", "#1d70b8", "Special cause: improving"),
    "special_cause_concerning": ("v", "#b35900", "Special cause: concerning"),
    "special_cause_neither": ("D", "#4c2c92", "Special cause: neither better nor worse"),
}

RC = {
    "svg.hashsalt": "contract-monitor",
    "svg.fonttype": "none",  # text as text: a third of the size, and selectable
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _day(value: str) -> float:
    return mdates.date2num(date.fromisoformat(value))


def _figure(spec: dict[str, Any], *, width: float = 7.2, height: float = 3.2) -> Figure:
    """The history chart of one measure as a matplotlib figure (no pyplot: thread-safe)."""
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    x0, x1 = _day(spec["x_start"]), _day(spec["x_end"])
    values: list[float] = []

    for gap in spec.get("gaps", []):
        ax.axvspan(
            max(_day(gap["from"]), x0), min(_day(gap["to"]), x1),
            facecolor="none", edgecolor=GAP, hatch="///", linewidth=0, alpha=0.5,
            label="No data" if gap is spec["gaps"][0] else None,
        )
    band_labelled = target_labelled = False
    for span in spec.get("targets", []):
        start, end = max(_day(span["from"]), x0), min(_day(span["to"]), x1)
        if end <= start:
            continue
        if span.get("band_low") is not None and span.get("band_high") is not None:
            ax.fill_between(
                [start, end], span["band_low"], span["band_high"], color=BAND, alpha=0.6,
                linewidth=0, label=None if band_labelled else "Within tolerance",
            )
            band_labelled = True
            values += [span["band_low"], span["band_high"]]
        for level in span.get("target_lines", []):
            ax.hlines(
                level, start, end, colors=TARGET, linestyles="--", linewidth=1.5,
                label=None if target_labelled else spec.get("target_label", "Target"),
            )
            target_labelled = True
            values.append(level)

    values += _draw_spc(ax, spec.get("spc"), x0, x1, before_line=True)

    line_labelled = False
    for segment in spec.get("segments", []):
        xs = [_day(p["x"]) for p in segment]
        ys = [p["y"] for p in segment]
        values += ys
        ax.plot(
            xs, ys, color=SERIES, linewidth=2, marker="o", markersize=4,
            label=None if line_labelled else spec.get("series_label", "Figure"),
        )
        line_labelled = True

    for i, comp in enumerate(spec.get("comparators", [])):
        colour = COMPARATOR_COLOURS[i % len(COMPARATOR_COLOURS)]
        ax.plot(
            [_day(comp["x"])], [comp["y"]], linestyle="none",
            marker=COMPARATOR_MARKERS[i % len(COMPARATOR_MARKERS)], markersize=7,
            markeredgecolor=colour, markerfacecolor=colour if comp["comparable"] else "white",
            markeredgewidth=1.5, label=comp["label"],
        )
        values.append(comp["y"])

    _draw_spc(ax, spec.get("spc"), x0, x1, before_line=False)

    for brk in spec.get("breaks", []):
        x = _day(brk["x"])
        if x0 <= x <= x1:
            ax.axvline(x, color=INK, linestyle=":", linewidth=1.5)
            ax.annotate(
                "Series break", (x, 1), xycoords=("data", "axes fraction"),
                xytext=(3, -10), textcoords="offset points", fontsize=8, color=INK,
            )

    latest = spec.get("latest")
    if latest:
        label = "\n".join(t for t in (latest.get("shown"), latest.get("as_at")) if t)
        ax.annotate(
            label, (_day(latest["x"]), latest["y"]), xytext=(-7, 6),
            textcoords="offset points", ha="right", va="bottom", fontsize=8, color=INK,
            fontweight="bold",
        )

    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.12 or max(abs(high) * 0.1, 1.0)
    bottom = low - pad
    if spec.get("non_negative", True):
        bottom = max(bottom, 0.0)
    top = high + pad
    if spec.get("percent"):
        top = min(top, 100.0 + pad / 2) if high <= 100 else top
    ax.set_ylim(bottom, top)
    ax.set_xlim(x0, x1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set_ylabel(spec.get("y_label", "Value"))
    ax.set_xlabel(spec.get("x_label", "Period"))
    ax.grid(axis="y", color="#b1b4b6", linewidth=0.5)
    # The legend sits under the axes, three entries a row; the figure grows by a row's
    # height for each extra row so the plot itself keeps its size.
    handles, labels = ax.get_legend_handles_labels()
    rows = max(1, -(-len(labels) // 3))
    fig.set_figheight(height + 0.2 * (rows - 1))
    fig.legend(
        handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(labels), 3) or 1, frameon=False, fontsize=8,
    )
    fig.subplots_adjust(
        left=0.1, right=0.97, top=1 - 0.12 / fig.get_figheight(),
        bottom=(0.62 + 0.2 * rows) / fig.get_figheight(),
    )
    return fig


def _draw_spc(ax, part: dict[str, Any] | None, x0: float, x1: float, *, before_line: bool) -> list[float]:
    """The XmR chart's lines (under the figures' line) or its marks and rebases (over it).
    Returns the levels drawn, so the axis takes them in."""
    if not part:
        return []
    levels: list[float] = []
    if before_line:
        labelled: set[str] = set()

        def once(text: str) -> str | None:
            if text in labelled:
                return None
            labelled.add(text)
            return text

        for line in part.get("lines", []):
            start, end = max(_day(line["from"]), x0), min(_day(line["to"]), x1)
            if end <= start:
                continue
            if line["role"] == "replaced":
                ax.hlines(
                    [line["lower"], line["mean"], line["upper"]], start, end, colors=LIMIT,
                    linestyles=":", linewidth=1, label=once("Limits before the rebase"),
                )
                levels += [line["lower"], line["upper"]]
                continue
            ax.hlines(line["mean"], start, end, colors=MEAN, linestyles="-", linewidth=1.2,
                      label=once("Mean"))
            provisional = line["provisional"]
            ax.hlines(
                [line["lower"], line["upper"]], start, end, colors=LIMIT,
                linestyles=(0, (5, 3)) if provisional else "-", linewidth=1.4,
                label=once("Process limits (provisional)" if provisional else "Process limits"),
            )
            levels += [line["lower"], line["mean"], line["upper"]]
        return levels

    marks: dict[str, list[dict[str, Any]]] = {}
    for point in part.get("signals", []):
        marks.setdefault(point["variation"], []).append(point)
    for variation, (marker, colour, words) in SIGNAL_MARKS.items():
        points = marks.get(variation)
        if not points:
            continue
        ax.plot(
            [_day(p["x"]) for p in points], [p["y"] for p in points], linestyle="none",
            marker=marker, markersize=9, markerfacecolor=colour, markeredgecolor="white",
            markeredgewidth=0.8, label=words, zorder=5,
        )
    for i, rebase in enumerate(part.get("rebases", [])):
        x = _day(rebase["x"])
        if x0 <= x <= x1:
            ax.axvline(x, color=REBASE, linestyle="-.", linewidth=1.2,
                       label="Rebase" if i == 0 else None)
            text = rebase["label"]
            ax.annotate(
                text if len(text) <= 48 else text[:47] + "…", (x, 1),
                xycoords=("data", "axes fraction"), xytext=(3, -22),
                textcoords="offset points", fontsize=8, color=INK,
            )
    return levels


_ID = re.compile(r'\bid="([^"]+)"')
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_SHEET = re.compile(r'\s*<style type="text/css">\*\{([^}]*)\}</style>')


def _presentation_attributes(svg: str) -> str:
    """matplotlib's inline styles as SVG presentation attributes (every property it writes
    is one), which the Content Security Policy allows where it refuses inline styles; its
    one style sheet, a rule for every element, becomes inherited attributes of the root."""

    def attributes(declarations: str) -> str:
        pairs = (d.split(":", 1) for d in declarations.split(";") if d.strip())
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)

    sheet = _STYLE_SHEET.search(svg)
    if sheet:
        svg = svg[: sheet.start()] + svg[sheet.end():]
        svg = svg.replace("<svg ", f"<svg{attributes(sheet.group(1))} ", 1)
    return _STYLE_ATTRIBUTE.sub(lambda m: attributes(m.group(1)), svg)


def _accessible(svg: str, chart_id: str, title: str, desc: str) -> str:
    """Inline-ready SVG: no XML prolog, ids prefixed, ``role="img"`` with title and desc."""
    svg = _presentation_attributes(svg[svg.index("<svg"):])
    for found in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        new = f"{chart_id}-{found}"
        svg = svg.replace(f'id="{found}"', f'id="{new}"')
        svg = svg.replace(f"url(#{found})", f"url(#{new})")
        svg = svg.replace(f'href="#{found}"', f'href="#{new}"')
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    opening_end = svg.index(">") + 1
    opening = svg[:opening_end].replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{title_id} {desc_id}" class="app-chart__svg" ',
        1,
    )
    return (
        f'{opening}<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(desc)}</desc>{svg[opening_end:]}'
    )


@lru_cache(maxsize=256)
def _svg_cached(spec_json: str) -> str:
    spec = json.loads(spec_json)
    with rc_context(RC):
        fig = _figure(spec)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _accessible(buf.getvalue(), spec["id"], spec["title"], spec["desc"])


def history_svg(spec: dict[str, Any]) -> str:
    """The history chart as accessible inline SVG (deterministic: same spec, same bytes)."""
    return _svg_cached(json.dumps(spec, sort_keys=True))


def history_png(spec: dict[str, Any], *, dpi: int = 120) -> bytes:
    """The same chart as PNG, for the PDF and the Word document (about 140 dpi at the
    printed width, 16 cm)."""
    return _png_cached(json.dumps(spec, sort_keys=True), dpi)


@lru_cache(maxsize=128)
def _png_cached(spec_json: str, dpi: int) -> bytes:
    spec = json.loads(spec_json)
    with rc_context(RC):
        fig = _figure(spec)
        buf = io.BytesIO()
        # Fast compression: the PDF and the .docx compress again anyway.
        fig.savefig(
            buf, format="png", dpi=dpi, metadata={"Software": None},
            pil_kwargs={"compress_level": 1},
        )
    return buf.getvalue()


def sparkline_svg(
    chart_id: str,
    segments: list[list[float]],
    *,
    title: str,
    target: float | None = None,
    width: int = 120,
    height: int = 32,
) -> str:
    """A small trend line: ``segments`` are runs of values with gaps between them.

    Positions are spread evenly by index across all segments (a gap takes one step), the
    latest figure is a dot at the right-hand end, and the target, if any, a dashed line.
    """
    values = [v for seg in segments for v in seg]
    if not values:
        return ""
    levels = values + ([target] if target is not None else [])
    low, high = min(levels), max(levels)
    span = (high - low) or 1.0
    positions = sum(len(seg) for seg in segments) + len(segments) - 1
    pad = 3

    def xy(i: int, v: float) -> tuple[float, float]:
        # The latest figure always sits at the right-hand end.
        share = i / (positions - 1) if positions > 1 else 1.0
        x = pad + (width - 2 * pad) * share
        y = height - pad - (height - 2 * pad) * (v - low) / span
        return round(x, 1), round(y, 1)

    parts = []
    if target is not None:
        _, ty = xy(0, target)
        parts.append(
            f'<line x1="{pad}" y1="{ty}" x2="{width - pad}" y2="{ty}" stroke="{TARGET}" '
            'stroke-width="1" stroke-dasharray="3 2"/>'
        )
    i = 0
    last = (0.0, 0.0)
    for seg in segments:
        points = []
        for v in seg:
            last = xy(i, v)
            points.append(f"{last[0]},{last[1]}")
            i += 1
        i += 1  # a gap takes one step, so segments are never joined
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{SERIES}" '
                'stroke-width="1.5"/>'
            )
        else:
            parts.append(f'<circle cx="{last[0]}" cy="{last[1]}" r="1.5" fill="{SERIES}"/>')
    parts.append(f'<circle cx="{last[0]}" cy="{last[1]}" r="2.5" fill="{SERIES}"/>')
    title_id = f"{chart_id}-title"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-sparkline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}"><title id="{title_id}">{escape(title)}</title>'
        f'{"".join(parts)}</svg>'
    )
