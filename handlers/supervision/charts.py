"""Supervision's charts, drawn on the server as PNG so the pages and the bulletin show the same pictures.

matplotlib's Agg canvas, in the CJK face the documents' typesetting uses for 黑体 (Fandol Hei in
``GONGWEN_FONT_DIR``, see :func:`handlers.documents.typesetting.fonts.face_file`). The same figures
give the same bytes: no timestamp or version is written into the file.

Which units are shown in red is decided once, by ``figures.shortfalls``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from PIL import Image

from engine.periods import Period
from handlers.documents.typesetting.fonts import face_file

from .figures import IN_TIME_BELOW, AreaFigures, GroupFigures
from .workbook import percent

__all__ = ["RANKED_AT_MOST", "groups_png", "ranking_png", "trend_png"]

RANKED_AT_MOST = 30    # bars in the ranking chart: the lowest ones
RED, BLUE, GREY = "#c00000", "#3b6ea5", "#a8b3bf"
DPI = 100
_lock = threading.Lock()
_ready = False


def ranking_png(figures: AreaFigures) -> bytes:
    """Horizontal bars of the units' in-time sign-for rates, the lowest :data:`RANKED_AT_MOST`, the worst
    at the top and those below :data:`IN_TIME_BELOW` in red; a note counts the units left out."""
    rated = sorted((u for u in figures.units if u.in_time.rate is not None), key=lambda u: (u.in_time.rate, u.name))
    shown = rated[:RANKED_AT_MOST]
    figure, axes = _figure(9.0, 1.6 + 0.28 * max(len(shown), 3))
    axes.set_title(f"{figures.period.label}各单位按时签收率（由低到高）", fontsize=12)
    notes = []
    if len(rated) > len(shown):
        notes.append(f"另有 {len(rated) - len(shown)} 个单位按时签收率更高，未列出")
    if len(figures.units) > len(rated):
        notes.append(f"{len(figures.units) - len(rated)} 个单位本期没有应签收的来文")
    if shown:
        rates = [u.in_time.rate for u in shown]
        positions = range(len(shown))
        colors = [RED if r < IN_TIME_BELOW else BLUE for r in rates]
        # A unit that signed nothing in time gets a sliver of a bar, so its row does not look empty.
        axes.barh(positions, [max(r, 0.004) for r in rates], color=colors, height=0.65)
        axes.set_yticks(positions, [u.name for u in shown], fontsize=8)
        axes.invert_yaxis()
        for y, rate in zip(positions, rates, strict=True):
            axes.text(min(rate, 1.0) + 0.01, y, percent(rate), va="center", fontsize=7)
        axes.axvline(IN_TIME_BELOW, color=RED, linewidth=0.8, linestyle="--")
    else:
        _nothing(axes)
    _percent_axis(axes.xaxis, axes.set_xlim)
    axes.set_xlabel("；".join(notes), fontsize=8, color="#555", loc="left")
    return _png(figure)


def groups_png(figures: AreaFigures, previous: AreaFigures) -> bytes:
    """Per county (or 市直单位) and for the whole area: the sign-for and archive rates of this period
    beside the previous period's."""
    before = {g.name: g for g in previous.groups}
    rows = [(g, before.get(g.name)) for g in figures.groups] + [(figures.total, previous.total)]
    figure, (signing, archiving) = _figure(9.0, 1.8 + 0.5 * len(rows), columns=2)
    figure.suptitle(f"{figures.period.label}与 {previous.period.label}对比", fontsize=12)
    names = [g.name for g, _ in rows]
    for axes, title, rate in ((signing, "签收率", lambda g: g.sign_rate),
                              (archiving, "归档率", lambda g: g.archive_rate)):
        positions = range(len(rows))
        for offset, label, color, values in (
                (-0.2, "本期", BLUE, [rate(g) for g, _ in rows]),
                (0.2, "上期", GREY, [rate(p) if p is not None else None for _, p in rows])):
            ys = [y + offset for y in positions]
            axes.barh(ys, [v or 0 for v in values], height=0.38, color=color, label=label)
            for y, value in zip(ys, values, strict=True):
                axes.text((value or 0) + 0.01, y, percent(value), va="center", fontsize=7)
        axes.set_title(title, fontsize=11)
        axes.set_yticks(positions, names if axes is signing else [""] * len(rows), fontsize=9)
        axes.invert_yaxis()
        _percent_axis(axes.xaxis, axes.set_xlim)
    figure.legend(*signing.get_legend_handles_labels(), loc="outside upper right", fontsize=8, ncols=2)
    return _png(figure)


def trend_png(months: Sequence[tuple[Period, GroupFigures]]) -> bytes:
    """Month by month (``figures.monthly``): documents received as bars, sign-for and archive rates as lines."""
    figure, axes = _figure(9.0, 4.2)
    labels = [f"{p.first:%Y-%m}" for p, _ in months]
    positions = list(range(len(months)))
    axes.bar(positions, [g.received for _, g in months], color=GREY, label="收文（件）")
    axes.set_ylabel("收文（件）", fontsize=9)
    axes.set_xticks(positions, labels, fontsize=8)
    rates = axes.twinx()
    for label, color, values in (("签收率", BLUE, [g.sign_rate for _, g in months]),
                                 ("归档率", RED, [g.archive_rate for _, g in months])):
        rates.plot(positions, [float("nan") if v is None else v for v in values], marker="o", color=color,
                   label=label)
    _percent_axis(rates.yaxis, rates.set_ylim)
    figure.suptitle("各月收文、签收率与归档率", fontsize=12)
    bars, lines = axes.get_legend_handles_labels(), rates.get_legend_handles_labels()
    figure.legend(bars[0] + lines[0], bars[1] + lines[1], loc="outside upper right", fontsize=8, ncols=3)
    if not months:
        _nothing(axes)
    return _png(figure)


def _figure(width: float, height: float, columns: int = 1) -> tuple[Figure, Axes | Sequence[Axes]]:
    _use_cjk_face()
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, columns)
    return figure, axes


def _percent_axis(axis, set_limits) -> None:
    """0 to 100% in steps of 20, with room beyond for the bars' labels."""
    set_limits(0, 1.15)
    axis.set_ticks([i / 5 for i in range(6)])
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _nothing(axes: Axes) -> None:
    axes.text(0.5, 0.5, "本期没有数据", ha="center", va="center", transform=axes.transAxes, fontsize=12, color="#555")
    axes.set_yticks([])


def _png(figure: Figure) -> bytes:
    """The figure as a PNG of 64 colours: a chart's few colours and their anti-aliasing fit, at a
    quarter of the size of full colour. The fast octree quantizer takes a fifth of median cut's time
    (11 against 50 ms for the ranking) and gives a smaller file."""
    canvas = figure.canvas
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    out = io.BytesIO()
    image.quantize(64, method=Image.Quantize.FASTOCTREE).save(out, format="png", optimize=True)
    return out.getvalue()


def _use_cjk_face() -> None:
    """Register the 黑体 face with matplotlib once per process and draw every text with it.

    The face has no U+2212 minus sign, so axes write the ASCII hyphen-minus.
    """
    global _ready
    with _lock:
        if _ready:
            return
        path = face_file("hei")
        font_manager.fontManager.addfont(path)
        matplotlib.rcParams.update({"font.family": font_manager.FontProperties(fname=path).get_name(),
                                    "axes.unicode_minus": False})
        _ready = True
