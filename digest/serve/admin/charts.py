"""The console's charts: SVG drawn on the server by pygal, put inline in the page.

No script runs: pygal's own script (tooltips) is taken out, since the pages allow none, and
every chart has its numbers in a table beside it. Colours read on light and dark pages alike.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pygal
from lxml import etree
from pygal.style import Style

from ...models.console import EditionCounts

# pygal adds an import hook for its map plugins (pygal.maps.*), which we do not use; left in
# place it makes every later import of the process warn (ImportWarning, on Python 3.11+).
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

# Sent, failed, bounced, deferred, uncertain; then more for sources. Mid-tone: both modes.
COLOURS = ("#2563eb", "#dc2626", "#9333ea", "#d97706", "#0d9488", "#65a30d", "#db2777", "#64748b")
STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#6b7280",
    foreground_strong="#6b7280", foreground_subtle="#9ca3af80", colors=COLOURS,
    font_family='-apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
    label_font_size=16, major_label_font_size=16, legend_font_size=17, title_font_size=18,
    guide_stroke_color="#9ca3af", major_guide_stroke_color="#9ca3af",
    guide_stroke_dasharray="2,6", major_guide_stroke_dasharray="2,6", dot_opacity="1", stroke_width=2.5,
)  # fmt: skip
SIZE = {"width": 800, "height": 320, "style": STYLE, "js": [], "legend_at_bottom": True,
        "x_label_rotation": 30, "truncate_label": 12, "min_scale": 2}  # fmt: skip


def sends_per_edition(editions: Sequence[EditionCounts]) -> str:
    """Sent, failed, bounced, deferred and uncertain per edition, oldest on the left."""
    ordered = list(reversed(editions))
    chart = pygal.StackedBar(**SIZE)
    chart.x_labels = [e.edition for e in ordered]
    for name in ("sent", "failed", "bounced", "deferred", "uncertain"):
        chart.add(name, [getattr(e, name) for e in ordered])
    return inline(chart)


def subscribers_over_time(days: Sequence[str], mailed: Sequence[int], left: Sequence[int]) -> str:
    """Addresses in each edition's ledger, and how many had left by then."""
    chart = pygal.Line(**SIZE)
    chart.x_labels = list(days)
    chart.add("mailed in the edition", list(mailed))
    chart.add("unsubscribed by then", list(left))
    return inline(chart)


def papers_per_source(days: Sequence[str], per_source: dict[str, dict[str, int]]) -> str:
    """Papers each source listed per day (its last fetch of the day; a failed fetch is 0)."""
    chart = pygal.Line(**SIZE)
    chart.x_labels = list(days)
    for source, by_day in sorted(per_source.items()):
        chart.add(source, [by_day.get(day) for day in days])
    return inline(chart)


def inline(chart: pygal.graph.graph.Graph) -> str:
    """The chart as an <svg> element, without pygal's script and comments."""
    tree = chart.render_tree()
    for node in tree.xpath("//*[local-name()='script'] | //comment()"):
        node.getparent().remove(node)
    svg = str(etree.tostring(tree, encoding="unicode"))
    return svg.replace("<svg ", '<svg role="img" ', 1)
