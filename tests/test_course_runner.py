"""Tests for scripts/run_course.py on two tiny throwaway notebooks (one passes, one fails).

The kernel start is the main cost, so the real run happens once (module fixture) and
the tests inspect its outputs.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

RUNNER = Path(__file__).resolve().parent.parent / "scripts" / "run_course.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("run_course", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_course"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def write_notebook(path: Path, title: str, parameters: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome text."), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    write_notebook(folder / "01_passes.ipynb", "Chapter that passes", "x = 1",
                   "assert x == 2, x\nprint('x is', x)\nimport os\nprint('reports in', os.environ.get('NAOMI_REPORTS_DIR'))")
    write_notebook(
        folder / "02_fails.ipynb", "Chapter that fails", "y = 0",
        "raise RuntimeError('deliberate failure from the test notebook')",
    )
    return folder


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def course(notebooks, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    (out / "claims.html").write_text(
        "<html><head><title>c</title></head><body><table><tr><td>claim-row-marker</td></tr></table></body></html>"
    )
    proc = run("--notebooks", str(notebooks), "--out", str(out), "-p", "x", "2", "-p", "unused", "hello",
               "--execution-timeout", "60")
    return proc, out


def test_exit_code_is_nonzero_when_a_chapter_fails(course):
    proc, _ = course
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "02_fails" in proc.stderr


def test_every_chapter_gets_a_notebook_and_html(course):
    _, out = course
    for name in ("01_passes", "02_fails"):
        assert (out / f"{name}.ipynb").exists()
        assert (out / f"{name}.html").exists()
    assert (out / "index.html").exists()


def test_index_shows_titles_pass_fail_links_and_claims(course):
    proc, out = course
    index = (out / "index.html").read_text()
    assert "Chapter that passes" in index and "Chapter that fails" in index
    assert "PASS" in index and "FAIL" in index
    assert 'href="01_passes.html"' in index and 'href="02_fails.ipynb"' in index
    assert "Paper claims" in index and "claim-row-marker" in index
    assert str(out / "index.html") in proc.stdout
    assert "Total time" in proc.stdout


def test_chapters_write_their_reports_into_the_runners_folder(course):
    # naomi_lite.paths.reports_dir() follows NAOMI_REPORTS_DIR: chapter 07's claims.html lands beside index.html
    _, out = course
    printed = "".join(o.get("text", "") for c in nbformat.read(out / "01_passes.ipynb", as_version=4).cells
                      for o in c.get("outputs", []))
    assert f"reports in {out}" in printed


def test_failing_html_shows_the_error(course):
    _, out = course
    assert "deliberate failure from the test notebook" in (out / "02_fails.html").read_text()


def test_parameter_goes_only_to_chapters_that_declare_it(course):
    proc, out = course
    passed = nbformat.read(out / "01_passes.ipynb", as_version=4)
    failed = nbformat.read(out / "02_fails.ipynb", as_version=4)
    injected = [c for c in passed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "x = 2" in injected[0].source
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in failed.cells)
    assert "01_passes: x=2" in proc.stdout
    assert "02_fails: (none)" in proc.stdout
    assert "'unused'" in proc.stderr  # warned: no chapter declares it


def test_no_input_hides_code(notebooks, tmp_path):
    proc = run("--notebooks", str(notebooks), "--out", str(tmp_path), "--only", "01", "-p", "x", "2", "--no-input")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "01_passes.html").read_text()
    assert "x is 2" in page
    assert "assert x == 2" not in page
    assert not (tmp_path / "02_fails.html").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "09"], "unknown chapter 09"),
        (["-p", "x"], "expected 2 arguments"),
        (["-p", "1x", "2"], "must be a Python identifier"),
    ],
)
def test_usage_errors_exit_2_with_one_line(notebooks, tmp_path, args, message):
    proc = run("--notebooks", str(notebooks), "--out", str(tmp_path), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("run_course.py: error:")
    assert not (tmp_path / "index.html").exists()


def test_values_are_python_literals_or_strings():
    runner = load_runner()
    assert runner.parse_value("1") == 1
    assert runner.parse_value("0.5") == 0.5
    assert runner.parse_value("True") is True
    assert runner.parse_value("[1, 2]") == [1, 2]
    assert runner.parse_value("cpu") == "cpu"
    assert runner.parse_value("'quoted'") == "quoted"


def test_chapter_title_is_first_markdown_heading():
    runner = load_runner()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# a comment, not a heading"),
        nbformat.v4.new_markdown_cell("Intro\n\n## 03 · Encoders\n\n# Later"),
    ]
    assert runner.chapter_title(nb) == "03 · Encoders"
