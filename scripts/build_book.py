"""Build the course website from the executed chapters: ``reports/book/index.html``.

This is what ``make book`` runs (and ``make course``, as its last step). It needs the
executed chapters that the course runner wrote (``reports/NN_*.ipynb``, and
``reports/claims.html`` from chapter 07), and builds with Sphinx and MyST-NB (the ``course``
extra of pyproject.toml):

1. it lays out a Sphinx source folder, ``reports/.book-src/``: ``book/conf.py``, a front page
   with the chapter list (``index.md``), the executed chapters, a page with the claims table
   (``claims.md``), and MathJax in ``_static/mathjax`` (``scripts/offline_math.py``);
2. it runs ``sphinx-build -b html -q`` (warnings are printed) and moves the site to
   ``reports/book/``.

Nothing is downloaded: the theme (alabaster) ships with Sphinx, the math renderer with
jupyter-server-mathjax, and the pages load nothing from the web (``tests/test_book.py``
checks that, and opens every chapter in Chromium).

Examples::

    python scripts/build_book.py                        # reports/ -> reports/book/
    python scripts/build_book.py --reports /tmp/r       # another reports folder
"""
from __future__ import annotations

import argparse
import datetime
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import offline_math  # noqa: E402

CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
PROJECT = "NAOMI-lite: the course"
INTRO = """\
NAOMI (*Non-AutOregressive Multiresolution Imputation*; Liu, Yu, Zheng, Zhan and Yue, NeurIPS 2019)
fills in the missing steps of trajectories, coarse to fine. This course rebuilds it in small,
readable PyTorch (the `naomi_lite` package) and teaches it chapter by chapter. Every page below is
a chapter as `make course` executed it, on {date}: its figures, its printouts and its checks.
Each chapter ends with exercises (with their solutions, for instructors) and a questionnaire;
`make student` writes the versions without solutions for students.
"""


def default_reports_dir() -> Path:
    sys.path.insert(0, str(REPO_ROOT))
    try:
        from naomi_lite.paths import reports_dir
    except ImportError:
        return REPO_ROOT / "reports"
    return reports_dir()


def claims_page(claims_html: Path) -> str:
    """A MyST page holding the claims table of ``claims.html`` (written by chapter 07)."""
    if not claims_html.exists():
        return ("# The paper's claims, measured\n\nChapter 07 has not written `claims.html` in this "
                "reports folder yet: run `make course` (or chapter 07) first.\n")
    text = claims_html.read_text(encoding="utf-8")
    title = re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.S | re.I)
    note = re.search(r"</h1>\s*<p>(.*?)</p>", text, flags=re.S | re.I)
    table = re.search(r"<table.*?</table>", text, flags=re.S | re.I)
    style = re.search(r"<style>(.*?)</style>", text, flags=re.S | re.I)
    heading = html.unescape(title.group(1)).strip() if title else "The paper's claims, measured"
    parts = [f"# {heading}\n",
             "Chapter 7 computes this table from its own measurements, with verdict rules fixed in its code "
             "(see [the chapter](07_reproducing_the_paper)). The page as chapter 7 wrote it: "
             '<a href="claims.html">claims.html</a>.\n']
    if note:
        parts.append(html.unescape(note.group(1)).strip() + "\n")
    if table:
        css = style.group(1) if style else ""
        css = re.sub(r"body\s*\{[^}]*\}", "", css)  # keep the table's style, not the page's
        parts.append("```{raw} html\n" + (f"<style>{css}</style>\n" if css else "")
                     + f'<div class="claims-table">{table.group(0)}</div>\n```\n')
    return "\n".join(parts)


def index_page(chapters: list[Path], has_claims: bool) -> str:
    date = datetime.date.today().isoformat()
    toc = "\n".join(p.stem for p in chapters) + ("\npaper_claims" if has_claims else "")
    return (f"# {PROJECT}\n\n{INTRO.format(date=date)}\n"
            "```{toctree}\n:maxdepth: 1\n:caption: Chapters\n\n" + toc + "\n```\n")


def stage(reports: Path, src: Path) -> list[Path]:
    """Lay out the Sphinx source folder ``src`` from ``reports``; return the chapters staged."""
    chapters = sorted(reports.glob(CHAPTER_GLOB))
    if not chapters:
        raise SystemExit(f"build_book.py: no executed chapters ({CHAPTER_GLOB}) in {reports}; run `make course` first")
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "book" / "conf.py", src / "conf.py")
    for chapter in chapters:
        shutil.copy(chapter, src / chapter.name)
    claims = reports / "claims.html"
    extra = src / "_extra"
    extra.mkdir()
    if claims.exists():
        shutil.copy(claims, extra / "claims.html")
    (src / "paper_claims.md").write_text(claims_page(claims), encoding="utf-8")  # claims.html: chapter 7's own page
    (src / "index.md").write_text(index_page(chapters, True), encoding="utf-8")
    if offline_math.install_mathjax(src / "_static") is None:
        raise SystemExit("build_book.py: jupyter-server-mathjax is not installed (pip install -e '.[course]'); "
                         "the website would need the network to show its equations")
    config = dict(offline_math.MATHJAX_SETTINGS, tex2jax={
        "inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
        "processEscapes": True, "processEnvironments": True,
        # MyST marks its pages "tex2jax_ignore" and its equations "math": typeset exactly those
        "processClass": "tex2jax_process|mathjax_process|math|output_area", "ignoreClass": "tex2jax_ignore"})
    (src / "book_settings.py").write_text(
        f"PROJECT = {PROJECT!r}\nYEAR = {str(datetime.date.today().year)!r}\n"
        f"MATHJAX_PATH = {offline_math.mathjax_url('mathjax')!r}\n"
        f"MATHJAX2_CONFIG = {config!r}\n"
        "EXTRA_PATHS = ['_extra']\n", encoding="utf-8")
    return chapters


def build(reports: Path, out: Path | None = None, quiet: bool = False) -> Path:
    """Stage and build the website; return the path of its front page."""
    out = out or reports / "book"
    src = reports / ".book-src"
    chapters = stage(reports, src)
    # Build inside the source folder (MyST-NB keeps its images beside the build folder), then move the site.
    built = src / "_build" / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", str(src), str(built)]
    proc = subprocess.run(cmd, text=True, capture_output=quiet)
    if proc.returncode != 0:
        raise SystemExit(f"build_book.py: sphinx-build failed ({proc.returncode})\n{proc.stdout or ''}{proc.stderr or ''}")
    if out.exists():
        shutil.rmtree(out)
    shutil.move(str(built), str(out))
    index = out / "index.html"
    print(f"Course website: {index} ({len(chapters)} chapters)")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_book.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=None, help="folder with the executed chapters (default: reports/)")
    parser.add_argument("--out", type=Path, default=None, help="website folder (default: <reports>/book)")
    args = parser.parse_args(argv)
    build((args.reports or default_reports_dir()).resolve(), args.out.resolve() if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
