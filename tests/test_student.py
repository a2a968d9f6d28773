"""The student versions that ``make student`` writes (issue 15).

``scripts/make_student.py`` strips the solutions with nbgrader's own preprocessors. These
tests check, for every chapter:

* that it has a study-time estimate, a questionnaire and, for every exercise of its
  "Try it" list, a solution cell in nbgrader's markup (the instructor version);
* that no solution survives in the student version: no solution or hidden-test marker,
  every solution code cell reduced to ``raise NotImplementedError()``, every solution
  markdown cell (expected outcomes, answers) to "YOUR ANSWER HERE", and none of the
  solutions' code left anywhere;
* that the student version runs. Each is executed top to bottom in a fresh process
  (``python -m nbconvert --execute``), as a student would, with one allowance: a solution
  cell may fail, and then only with ``NotImplementedError`` (the cells carry nbclient's
  ``raises-exception`` tag for this run only). Every other cell, the chapter's own and the
  hidden-test cells left empty, must run without error. The chapters' exercises come after
  their content, so this runs each chapter's whole teaching part. (That takes about as long
  as nbval on the instructor versions, 2 to 4 minutes for the seven on a 2-core machine;
  the solutions themselves are checked by nbval, with ``make test``.)
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOKS, REPO_ROOT

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -e '.[course]')")

CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def load_make_student():
    spec = importlib.util.spec_from_file_location("make_student", REPO_ROOT / "scripts" / "make_student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_solution(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def solution_lines(cell) -> list[str]:
    """The non-blank lines between the solution markers of an instructor code cell."""
    inside, lines = False, []
    for line in cell.source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    make_student = load_make_student()
    for source in CHAPTERS:
        make_student.make_student(source, out / source.name)
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_instructor_version_has_study_time_questionnaire_and_solutions(chapter):
    nb = nbformat.read(chapter, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"\*\*Study time\.\*\* About", "\n".join(c.source for c in nb.cells[:3])), "study time at the top"
    assert "Questionnaire" in text, "a questionnaire"
    try_it = next(c.source.split("## Try it", 1)[1] for c in nb.cells if c.cell_type == "markdown" and "## Try it" in c.source)
    try_it = re.split(r"\n#+ ", try_it)[0]  # up to the next heading
    n_exercises = len(re.findall(r"^\d+\. \*\*", try_it, flags=re.MULTILINE))
    solved = {int(m) for c in nb.cells if c.cell_type == "code" and is_solution(c)
              for m in re.findall(r"^# Exercise (\d+)", c.source, flags=re.MULTILINE)}
    assert solved == set(range(1, n_exercises + 1)), f"exercises {n_exercises}, solution cells for {sorted(solved)}"
    outcomes = [c for c in nb.cells if c.cell_type == "markdown" and is_solution(c) and "Expected outcome" in c.source]
    assert len(outcomes) >= n_exercises, "an expected outcome per exercise"
    for c in nb.cells:
        if any(m in c.source for m in MARKERS):
            assert c.cell_type == "code" and "nbgrader" in c.metadata, f"markers outside an nbgrader cell: {c.id}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_version_has_no_solutions(student, chapter):
    teacher = nbformat.read(chapter, as_version=4)
    pupil = nbformat.read(student / chapter.name, as_version=4)
    assert [c.get("id") for c in pupil.cells] == [c.get("id") for c in teacher.cells]
    everything = "\n".join(c.source for c in pupil.cells)
    for marker in MARKERS:
        assert marker not in everything
    for t, s in zip(teacher.cells, pupil.cells):
        if t.cell_type == "markdown" and is_solution(t):
            assert s.source.strip() == "YOUR ANSWER HERE", t.id
        elif t.cell_type == "code" and is_solution(t):
            assert "raise NotImplementedError()" in s.source, t.id
            for line in solution_lines(t):
                assert line not in s.source, f"{t.id}: solution line left: {line}"
        elif t.cell_type == "code" and "BEGIN HIDDEN TESTS" in t.source:
            assert "assert" not in s.source, f"{t.id}: hidden test left"
        else:
            assert s.source == t.source, f"{t.id}: a cell that is not an exercise changed"
        assert not s.get("outputs"), f"{t.id}: outputs left"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_version_runs_until_each_exercise_asks_for_a_solution(student, chapter, tmp_path):
    nb = nbformat.read(student / chapter.name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):  # execution goes on after an error in such a cell
            cell.metadata.setdefault("tags", []).append("raises-exception")
    tagged, executed = tmp_path / chapter.name, tmp_path / f"executed_{chapter.name}"
    nbformat.write(nb, tagged)
    # A fresh process per chapter, as nbval and the course runner use: nbconvert's ExecutePreprocessor
    # (nbclient) runs it from notebooks/, and honours the raises-exception tag.
    env = dict(os.environ, OMP_NUM_THREADS="1", NAOMI_REPORTS_DIR=str(tmp_path))  # chapter 07 writes claims.html
    proc = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", str(tagged),
                           "--output", str(executed), "--ExecutePreprocessor.timeout=300",
                           "--ExecutePreprocessor.kernel_name=python3", f"--ExecutePreprocessor.startup_timeout=300"],
                          cwd=NOTEBOOKS, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for cell in nbformat.read(executed, as_version=4).cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if cell.cell_type == "code" and is_solution(cell):
            assert [e.ename for e in errors] == ["NotImplementedError"], f"{cell.id}: {[e.ename for e in errors]}"
        else:
            assert not errors, f"{cell.id}: {errors[0].ename}: {errors[0].evalue}" if errors else ""
