"""Drawing a briefing: its charts as PNG images and the whole briefing as a PDF, in one
headless Chromium (Debian's /usr/bin/chromium, or KPI_CHROMIUM) driven by Playwright.

Why this and not kaleido and WeasyPrint: the PDF needs an HTML engine, and WeasyPrint is
not among the packages this project may install; Chromium prints HTML to PDF as the
browser shows it (page breaks, A4, a running footer with page numbers), and the same
browser draws the Plotly charts with plotly.js (``Plotly.toImage``, what kaleido itself
does in a Chrome), so one process does both, with no new dependency: Playwright is already
pinned for the browser tests, and Chromium already installed for them. The images are PNG
(not SVG) because mail readers show PNG and many strip SVG.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from types import TracebackType

import plotly

from notify import NotifyError
from notify.briefing import Briefing

CHROMIUM = os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
CHART_WIDTH = 680  # CSS pixels; drawn at twice that for print and high-density screens
CHART_SCALE = 2
TIMEOUT_MS = 120_000

_DRAW = """async ([figure, width, scale]) => {
    const box = document.getElementById('chart');
    const height = figure.layout.height || 360;
    await Plotly.newPlot(box, figure.data, {...figure.layout, width: width, height: height}, {staticPlot: true});
    const url = await Plotly.toImage(box, {format: 'png', width: width, height: height, scale: scale});
    Plotly.purge(box);
    return url;
}"""

FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#555;font-family:sans-serif;display:flex;justify-content:space-between">'
    '<span>{title}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
)


class BrowserMissing(NotifyError):
    """No Chromium to draw with; the message says where it was looked for."""


class Renderer:
    """One browser for a run's briefings: ``with Renderer() as draw: draw(briefing)``."""

    def __init__(self, executable: str = CHROMIUM) -> None:
        self.executable = executable

    def __enter__(self) -> Renderer:
        if not Path(self.executable).exists():
            raise BrowserMissing(f"no Chromium at {self.executable}: install Debian's chromium (apt-get install chromium) or set KPI_CHROMIUM")
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=self.executable, args=CHROMIUM_ARGS, headless=True)
        self._page = self._browser.new_page()
        self._page.set_default_timeout(TIMEOUT_MS)
        self._page.set_content('<!doctype html><html><body style="margin:0"><div id="chart"></div></body></html>')
        self._page.add_script_tag(path=str(PLOTLY_JS))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._browser.close()
        self._playwright.stop()

    def __call__(self, briefing: Briefing) -> Briefing:
        """Fill the briefing's chart images and its PDF (in place; returned)."""
        drawn = []
        for chart in briefing.charts:
            url = self._page.evaluate(_DRAW, [json.loads(chart.figure.to_json()), CHART_WIDTH, CHART_SCALE])
            drawn.append(type(chart)(chart.name, chart.figure, chart.alt, _small_png(base64.b64decode(url.split(",", 1)[1]))))
        briefing.charts = drawn
        page = self._browser.new_page()
        try:
            images = {chart.name: "data:image/png;base64," + base64.b64encode(chart.png).decode() for chart in drawn}
            page.set_content(briefing.html(images=images), wait_until="load")
            title = f"{briefing.subject.removeprefix('[KPI] ')}"
            briefing.pdf = page.pdf(
                format="A4", print_background=True, display_header_footer=True,
                header_template="<span></span>", footer_template=FOOTER.format(title=_escape(title)),
                margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            page.close()
        return briefing


def _small_png(png: bytes, colours: int = 128) -> bytes:
    """The PNG with a palette of ``colours``: a chart has few colours (the anti-aliased edges
    keep enough of them), so the mail and the PDF carry a third of the bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _escape(text: str) -> str:
    import html

    return html.escape(text)
