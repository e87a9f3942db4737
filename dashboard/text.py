"""Text that came from a user or a file, made safe to put in Markdown.

Streamlit renders Markdown in st.markdown, headers, captions, alerts, metric labels and
button and expander labels. A service name such as ``[x](javascript:alert(1))`` or an
acknowledgement note with ``![](https://any.host/pixel)`` would become a link or an image
there for every viewer. ``plain`` backslash-escapes every character that can start
inline Markdown or HTML (links, images, code, emphasis, tables, maths, Streamlit's
``:colour[...]`` and ``:icon:`` codes, autolinks), the markers that start a block when
they begin the text, and the dot of ``www.`` (CommonMark lets any ASCII punctuation be
escaped and shows it as itself); line breaks fold into spaces. The text then shows
literally, and reads the same in the element's source (dots, hyphens, apostrophes and
brackets of ordinary names are left as they are). Text inside our
own HTML goes through ``html_text`` instead.
"""

from __future__ import annotations

import html
import re

_INLINE = re.compile(r"([\\`*_{}\[\]<>!|~$:@^&])")
_BLOCK_START = re.compile(r"^(\s*)([#+\-=>])")
_NUMBERED_START = re.compile(r"^(\s*\d+)([.)])")
_WWW_DOT = re.compile(r"(?i)(www)\.")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def plain(text: object) -> str:
    """``text`` as Markdown that shows it literally, on one line (None: empty)."""
    if text is None:
        return ""
    one_line = _LINE_BREAKS.sub(" ", str(text))
    escaped = _WWW_DOT.sub(r"\1\\.", _INLINE.sub(r"\\\1", one_line))
    escaped = _BLOCK_START.sub(r"\1\\\2", escaped)
    return _NUMBERED_START.sub(r"\1\\\2", escaped)


def html_text(text: object) -> str:
    """``text`` for our own HTML (a block rendered with unsafe_allow_html): entities for
    HTML's specials and for Markdown's brackets, on one line, so that no blank line can
    end the HTML block and let Markdown after it be read (None: empty)."""
    if text is None:
        return ""
    one_line = _LINE_BREAKS.sub(" ", str(text))
    return html.escape(one_line).replace("[", "&#91;").replace("]", "&#93;")
