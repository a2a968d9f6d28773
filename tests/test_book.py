"""The course website (``make book``) in a real browser (issue 15).

Runs the course into a temporary reports folder (``scripts/run_course.py``, every chapter,
as ``make course`` does), builds the website from it (``scripts/build_book.py``), and checks:

* offline by construction: no page loads a script, a style sheet, a font or an image from
  the web (every ``src`` and ``<link href>`` is a relative path), and the build itself
  fetched nothing (Sphinx's alabaster theme and MathJax come from installed packages);
* in Debian's Chromium through Playwright, with every request to anything but a local file
  refused: every chapter page renders its figures, its equations are typeset by MathJax
  (MathJax's output elements are there, and no raw ``$$`` or ``\\(`` is left in the text),
  and it shows no error output; the chapter list links every chapter; the search finds a
  chapter; the claims page holds chapter 07's table. A screenshot goes to
  ``reports/book_chapter.png`` (``reports/`` is not committed).

The same check also opens one course report (``reports/NN_*.html``) offline: its equations
are typeset by the reports' own copy of MathJax.

Needs ``/usr/bin/chromium`` and ``playwright`` as ``tests/test_browser.py`` does (skipped with
a loud reason without them), and the ``course`` extra (Sphinx, MyST-NB, jupyter-server-mathjax).
Set ``NAOMI_BOOK_REPORTS`` to a reports folder that ``make course`` already wrote to skip
running the course here.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import NOTEBOOKS, REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = REPO_ROOT / "reports" / "book_chapter.png"
CHAPTERS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[course]')")
pytest.importorskip("myst_nb", reason="MyST-NB is not installed (pip install -e '.[course]')")
pytest.importorskip("jupyter_server_mathjax", reason="jupyter-server-mathjax is not installed (pip install -e '.[course]')")


def _skip_loudly(reason: str):
    warnings.warn(f"BOOK BROWSER TEST NOT RUN: {reason}", UserWarning)
    pytest.skip(f"BOOK BROWSER TEST NOT RUN: {reason}")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    given = os.environ.get("NAOMI_BOOK_REPORTS")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("reports")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # A cell timeout of 5 minutes (every cell takes well under one): a kernel that stops answering, which
    # nbclient and ipykernel 7 are known to do now and then on a cell that displays a widget
    # (jupyter/nbclient#312), fails the run in minutes rather than in the default 15.
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "run_course.py"), "--out", str(out),
                           "--execution-timeout", "300"], capture_output=True, text=True, timeout=1800, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def book(reports, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "build_book.py"), "--reports", str(reports),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_every_page_loads_only_local_files(book):
    pages = sorted(book.glob("*.html"))
    assert {f"{c}.html" for c in CHAPTERS} <= {p.name for p in pages}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        loaded = re.findall(r'<(?:script|img|iframe|source)[^>]*\ssrc="([^"]+)"', text)
        loaded += re.findall(r'<link[^>]*\shref="([^"]+)"', text)
        remote = [u for u in loaded if "://" in u or u.startswith("//")]
        assert not remote, f"{page.name} loads from the web: {remote}"
        assert "cdn." not in " ".join(loaded)
    assert (book / "_static" / "mathjax" / "MathJax.js").is_file()
    for css in (book / "_static").glob("*.css"):
        assert not re.search(r"@import\s+url\([\"']?(https?:)?//", css.read_text(encoding="utf-8")), css.name


def test_front_page_lists_every_chapter_and_the_claims(book):
    index = (book / "index.html").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        assert f'href="{chapter}.html"' in index, chapter
    assert 'href="paper_claims.html"' in index
    claims = (book / "paper_claims.html").read_text(encoding="utf-8")
    assert "<table" in claims and re.search(r"reproduced", claims), "the claims table that chapter 07 computed"
    assert 'href="claims.html"' in claims and (book / "claims.html").is_file(), "and chapter 07's own page"


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _skip_loudly(f"{CHROMIUM} not found; install Debian's Chromium (apt-get install chromium, or `make setup`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_loudly("the playwright package is not installed (pip install -e '.[browser]', or `make setup`)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def offline_page(browser):
    """A page that may load local files only: any request to the network is refused and recorded."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    refused = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "about:", "blob:")):
            return r.continue_()
        refused.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    return page, refused


def wait_for_mathjax(page):
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue && "
                           "MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0 && "
                           "document.querySelectorAll('.MathJax, .MathJax_Display').length > 0", timeout=60_000)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_renders_figures_and_typeset_equations(book, browser, chapter):
    page, refused = offline_page(browser)
    try:
        page.goto((book / f"{chapter}.html").as_uri())
        wait_for_mathjax(page)
        body = page.inner_text("div.body")
        assert page.locator("div.body h1").first.inner_text().startswith("Chapter"), "the chapter's title"
        assert page.locator("div.body img").count() >= 1, "the chapter's figures"
        assert page.evaluate("() => [...document.querySelectorAll('div.body img')].every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator(".MathJax, .MathJax_Display").count() >= 1, "typeset equations"
        assert "$$" not in body and "\\(" not in body and "\\[" not in body, "raw LaTeX left in the text"
        assert page.locator(".MathJax_Error, .math-error, .merror").count() == 0, "a MathJax error"
        assert page.locator(".output.traceback, .output.error, div.cell_output .traceback").count() == 0, "error output"
        assert "Traceback (most recent call last)" not in body
        nav = page.locator("div.sphinxsidebar a.reference.internal")
        assert nav.count() >= len(CHAPTERS), "the chapter list in the sidebar"
        assert not refused, f"requests to the network: {refused}"
        if chapter == CHAPTERS[3]:
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.locator("div.body div.math").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT))
    finally:
        page.close()


def test_search_finds_a_chapter(book, browser):
    page, refused = offline_page(browser)
    try:
        page.goto((book / "search.html").as_uri() + "?q=imputation+order")
        page.wait_for_selector("#search-results ul.search li", timeout=60_000)
        hits = page.locator("#search-results ul.search li a").all_inner_texts()
        assert any("Chapter" in h for h in hits), hits
        assert not refused, f"requests to the network: {refused}"
    finally:
        page.close()


def test_course_report_typesets_equations_offline(reports, browser):
    report = reports / f"{CHAPTERS[3]}.html"
    page, refused = offline_page(browser)
    try:
        page.goto(report.as_uri())
        wait_for_mathjax(page)
        assert page.locator(".MathJax_Display").count() >= 1
        assert "$$" not in page.inner_text("body")
        assert not refused, f"requests to the network: {refused}"
    finally:
        page.close()
