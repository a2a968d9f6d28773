"""The course runner's reports work offline (issue 15).

One tiny chapter with an equation goes through ``scripts/run_course.py``; the tests check
that its HTML page loads MathJax from the reports folder (not from a CDN), that the copy
is there, that no kernel warned about TCP, and that the index shows the claims' heading once.
``tests/test_book.py`` opens such pages in Chromium and checks that the equations are typeset.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

RUNNER = Path(__file__).resolve().parent.parent / "scripts" / "run_course.py"
sys.path.insert(0, str(RUNNER.parent))
import offline_math  # noqa: E402

needs_mathjax = pytest.mark.skipif(offline_math.mathjax_source() is None,
                                   reason="jupyter-server-mathjax is not installed (pip install -e '.[course]')")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Maths\n\n$$p(x_t \\mid H) = g^{(r)}(h^f_{t-n_r}, h^b_{t+n_r}).$$"),
                nbformat.v4.new_code_cell("print(1 + 1)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_maths.ipynb")
    out = tmp_path_factory.mktemp("reports")
    (out / "claims.html").write_text("<html><body><h1>The paper's claims, measured</h1><p>note</p>"
                                     "<table><tr><td>row</td></tr></table></body></html>")
    proc = subprocess.run([sys.executable, str(RUNNER), "--notebooks", str(folder), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, out


def test_no_kernel_warns_about_tcp(course):
    proc, _ = course
    assert "without encryption" not in proc.stdout + proc.stderr


@needs_mathjax
def test_reports_load_the_local_mathjax(course):
    _, out = course
    page = (out / "01_maths.html").read_text()
    sources = re.findall(r'<script[^>]+src="([^"]+)"', page) + re.findall(r'<link[^>]+href="([^"]+)"', page)
    assert any(src.startswith("_static/mathjax/MathJax.js") for src in sources), sources
    assert not any("://" in src for src in sources), f"a script is loaded from the web: {sources}"
    assert (out / "_static" / "mathjax" / "MathJax.js").is_file()
    assert page.index("window.MathJax = ") < page.index('src="_static/mathjax/MathJax.js'), "settings before MathJax"


def test_index_shows_the_claims_heading_once(course):
    _, out = course
    index = (out / "index.html").read_text()
    assert index.count("claims, measured") == 1 and "Paper claims" not in index
    assert '<h2 id="claims">' in index and "<h1>The paper" not in index
