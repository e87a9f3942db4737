"""A status as a badge: icon, word and colour (never colour alone). Pure HTML, for the tiles,
the where-matrix and every page that shows a status."""

from __future__ import annotations

from dashboard.text import html_text
from metrics.status import STATUS_ICONS, STATUS_WORDS

STATUS_COLOURS = {  # badge background with white text; each at least 4.5:1
    "green": "#1E6B43",
    "amber": "#8A4B00",
    "red": "#B42318",
    "grey": "#57606A",
}


def status_badge(status: str, word: str | None = None) -> str:
    """The status as icon, word and colour (never colour alone)."""
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["grey"])
    return (
        f'<span class="kpi-badge" style="background:{colour}">'
        f'<span aria-hidden="true">{STATUS_ICONS[status]}</span> {html_text(word or STATUS_WORDS[status])}</span>'
    )
