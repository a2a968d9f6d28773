"""Write the student versions of the chapters: solutions and hidden tests stripped by nbgrader.

This is what ``make student`` runs. Each ``notebooks/NN_*.ipynb`` (the instructor version,
with solutions) goes through nbconvert's ``NotebookExporter`` with nbgrader's own
preprocessors, as ``nbgrader generate_assignment`` applies them:

* ``ClearSolutions``: in a code cell, the lines between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` become ``raise NotImplementedError()``; a markdown cell marked as a
  solution (an *Expected outcome*, the answers to a questionnaire) becomes "YOUR ANSWER HERE";
* ``ClearHiddenTests``: the lines between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` disappear;
* ``LockCells`` and ``ClearOutput``: the other cells are marked read-only for nbgrader, and
  no output is kept.

The result goes to ``student/NN_*.ipynb`` (or ``--out``). Run top to bottom, a student
version works as the chapter does until its first exercise, where the solution cell raises
``NotImplementedError`` until the student writes one; ``tests/test_student.py`` checks both.

Examples::

    python scripts/make_student.py                  # every chapter into student/
    python scripts/make_student.py --out /tmp/s     # elsewhere
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def student_exporter():
    """nbconvert's NotebookExporter with nbgrader's preprocessors for a release version."""
    from nbconvert.exporters import NotebookExporter
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

    exporter = NotebookExporter()
    for preprocessor in (ClearSolutions(enforce_metadata=True), ClearHiddenTests(enforce_metadata=True),
                         LockCells(), ClearOutput()):
        preprocessor.enabled = True
        exporter.register_preprocessor(preprocessor)
    return exporter


def make_student(source: Path, target: Path) -> Path:
    """Write the student version of the notebook ``source`` to ``target``; return ``target``."""
    import nbformat

    body, _ = student_exporter().from_filename(str(source))
    nb = nbformat.reads(body, as_version=4)
    leftover = [m for c in nb.cells for m in SOLUTION_MARKERS if m in c.source]
    if leftover:  # a marker outside a cell that nbgrader knows as a solution or test cell
        raise RuntimeError(f"{source.name}: solution markers left in the student version: {sorted(set(leftover))}")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make_student.py", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=REPO_ROOT / "notebooks", help="instructor chapters")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "student", help="folder for the student versions")
    args = parser.parse_args(argv)
    chapters = sorted(args.notebooks.glob(CHAPTER_GLOB))
    if not chapters:
        parser.error(f"no chapters ({CHAPTER_GLOB}) in {args.notebooks}")
    for source in chapters:
        print(f"{source.name} -> {make_student(source, args.out / source.name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
