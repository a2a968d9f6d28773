"""Typeset equations with no network: a local copy of MathJax for the HTML reports and the course website.

nbconvert's HTML pages load MathJax 2.7 from a CDN, so opened offline (a classroom, a train)
they show ``$$p(x_t \\mid H) = ...$$`` as raw text. The ``jupyter-server-mathjax`` package
(on PyPI, from the Jupyter project; the ``course`` extra of pyproject.toml installs it, and
``make setup`` installs that extra) ships MathJax 2.7 itself: the TeX input, the HTML-CSS
output and its STIX-Web fonts, about 12 MB. This module copies that folder next to the pages
(``<folder>/_static/mathjax/``) and gives the URL and the settings that make the pages use
it. Nothing is downloaded, when building or when viewing.

Used by ``scripts/run_course.py`` (the reports) and ``scripts/build_book.py`` (the website).
"""
from __future__ import annotations

import filecmp
import json
import re
import shutil
from pathlib import Path

# MathJax 2's combined configuration shipped by jupyter-server-mathjax (TeX and MathML input,
# HTML-CSS output), plus its Safe extension, as nbconvert's own CDN URL uses.
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
# The package has no TeX web fonts, only STIX-Web: tell HTML-CSS to use those (as classic
# Jupyter Notebook does) and never to look for image fonts or fonts on the web.
MATHJAX_SETTINGS = {
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
    "messageStyle": "none",
}


def mathjax_source() -> Path | None:
    """The folder holding ``MathJax.js`` in the installed jupyter-server-mathjax package, or None."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    return static if (static / "MathJax.js").is_file() else None


def install_mathjax(static_dir: Path) -> Path | None:
    """Copy MathJax into ``static_dir/mathjax`` (unless an identical copy is there); return that folder.

    Returns None (and copies nothing) when jupyter-server-mathjax is not installed.
    """
    source = mathjax_source()
    if source is None:
        return None
    target = Path(static_dir) / "mathjax"
    if (target / "MathJax.js").is_file() and filecmp.cmp(source / "MathJax.js", target / "MathJax.js", shallow=False):
        return target
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def mathjax_url(relative_folder: str) -> str:
    """The ``src`` of the MathJax script, for a page that sees the copy at ``relative_folder``."""
    return f"{relative_folder.rstrip('/')}/MathJax.js?config={MATHJAX_CONFIG}"


def settings_script() -> str:
    """A ``<script>`` that sets MathJax 2's settings before MathJax.js loads (it reads ``window.MathJax``)."""
    return f"<script>window.MathJax = {json.dumps(MATHJAX_SETTINGS)};</script>"


def drop_web_scripts(page: str) -> str:
    """``page`` without the ``<script src="http...">`` and style sheets that it would load from the web.

    nbconvert's template loads require.js, and for a notebook with saved widget state the
    widget renderer, from CDNs. A static page cannot run the widgets' callbacks anyway (the
    chapters draw a still picture beside each widget), so the page drops them, and any style
    sheet from the web (the chapters' own outputs load none: see
    ``naomi_lite.plotting.animation_html``), and downloads nothing when it is viewed.
    """
    page = re.sub(r'<script[^>]*\ssrc="(?:https?:)?//[^"]*"[^>]*>\s*</script>\s*', "", page)
    return re.sub(r'<link[^>]*\shref="(?:https?:)?//[^"]*"[^>]*>\s*', "", page)
