"""Run every chapter of the course and write an HTML report to ``reports/``.

This is what ``make course`` runs. For each ``notebooks/NN_*.ipynb``, in order, it:

1. executes the notebook with papermill (kernel ``python3``, working folder
   ``notebooks/``, a timeout on every cell), writing ``reports/NN_*.ipynb``;
2. converts the executed notebook to ``reports/NN_*.html``, with its images embedded and
   its equations typeset by the local copy of MathJax in ``reports/_static/mathjax/``
   (``scripts/offline_math.py``), so that the page needs no network;
3. records the title, run time and PASS/FAIL.

A chapter that fails still gets its executed notebook and HTML (with the error in
them); the runner goes on with the next chapter and exits with status 1 at the end.
Finally it writes ``reports/index.html`` with one row per chapter.

Examples::

    python scripts/run_course.py                       # every chapter
    python scripts/run_course.py --only 03 05          # chapters 03 and 05
    python scripts/run_course.py -p seed 1 -p device cpu
    make course COURSE_ARGS="-p seed 1 --no-input"

``-p NAME VALUE`` works like papermill's: VALUE is read as a Python literal
(``1``, ``0.5``, ``True``, ``[1, 2]``) and otherwise kept as a string. Each parameter
goes only to the chapters whose ``parameters`` cell declares it.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import html
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # report the kit in this checkout, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))  # offline_math, beside this script

import offline_math  # noqa: E402

DEFAULT_NOTEBOOKS = REPO_ROOT / "notebooks"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
COURSE_TITLE = "NAOMI teaching kit: course report"
KERNEL = "python3"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_value(text: str):
    """Read a ``-p`` VALUE as a Python literal, falling back to the plain string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="run_course.py",
        description="Run every course notebook with papermill and write an HTML report.",
    )
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="pass a parameter to every chapter that declares it (repeatable), e.g. -p seed 1",
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NN", default=None,
        help="run only these chapters, by number prefix, e.g. --only 03 05",
    )
    parser.add_argument("--no-input", action="store_true", help="hide the code cells in the HTML reports")
    parser.add_argument(
        "--execution-timeout", type=int, default=900, metavar="SECONDS",
        help="timeout for each cell, in seconds (default: 900)",
    )
    parser.add_argument("--out", type=Path, default=None, help="reports folder (default: <repo>/reports)")
    parser.add_argument(
        "--notebooks", type=Path, default=DEFAULT_NOTEBOOKS,
        help="folder holding the NN_*.ipynb chapters (default: <repo>/notebooks)",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line; usage errors exit with status 2 and one line."""
    parser = build_parser()
    args = parser.parse_args(argv)

    args.params = {}
    for name, value in args.parameter:
        if not name.isidentifier():
            parser.error(f"-p NAME VALUE: NAME must be a Python identifier, got {name!r}")
        args.params[name] = parse_value(value)

    if args.execution_timeout <= 0:
        parser.error("--execution-timeout must be a positive number of seconds")

    args.notebooks = args.notebooks.resolve()
    if not args.notebooks.is_dir():
        parser.error(f"notebooks folder not found: {args.notebooks}")
    chapters = sorted(args.notebooks.glob(CHAPTER_GLOB))
    if not chapters:
        parser.error(f"no chapters ({CHAPTER_GLOB}) found in {args.notebooks}")

    if args.only is not None:
        available = {path.name[:2]: path for path in chapters}
        wanted = [prefix.zfill(2) for item in args.only for prefix in item.split(",") if prefix]
        unknown = [prefix for prefix in wanted if prefix not in available]
        if unknown:
            parser.error(
                f"unknown chapter {', '.join(unknown)} in --only; available: {', '.join(sorted(available))}"
            )
        if not wanted:
            parser.error("--only needs at least one chapter number, e.g. --only 03 05")
        chapters = [path for path in chapters if path.name[:2] in wanted]
    args.chapters = chapters
    args.out_dir = checked_out_dir(args.out, parser)
    return args


def checked_out_dir(out: Path | None, parser: argparse.ArgumentParser) -> Path:
    """The reports folder (``--out``, else ``naomi_lite.paths.reports_dir()``), checked before any
    chapter runs: not a file, not under a file, writable (``naomi_lite.paths.check_output``)."""
    try:
        from naomi_lite.paths import OutputError, check_output
    except ImportError:  # the kit is not importable: the chapters will say so; check the basics here
        if out is not None and out.exists() and not out.is_dir():
            parser.error(f"argument --out: {out} is a file, not a folder")
        return (out or REPO_ROOT / "reports").resolve()
    try:
        if out is None:
            return default_reports_dir().resolve()
        return check_output(out.resolve(), folder=True)
    except OutputError as err:
        parser.error(f"argument --out: {err}")


def default_reports_dir() -> Path:
    try:
        from naomi_lite.paths import reports_dir
    except ImportError:
        return REPO_ROOT / "reports"
    return reports_dir()


# ---------------------------------------------------------------------------
# One chapter: execute, convert, record
# ---------------------------------------------------------------------------


@dataclass
class ChapterResult:
    name: str  # file stem, e.g. "01_billiards"
    title: str  # first markdown heading
    seconds: float
    passed: bool
    params: dict = field(default_factory=dict)
    error: str = ""


def chapter_title(nb) -> str:
    """The first markdown heading of a notebook, without its ``#`` marks."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                return line.strip().lstrip("#").strip()
    return ""


def declared_parameters(nb) -> set[str]:
    """Names assigned at the top level of the notebook's cell tagged ``parameters``.

    This is what ``papermill.inspect_notebook`` reports, read straight from the cell,
    so that it also works for notebooks saved without kernelspec metadata.
    """
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as err:
            print(f"warning: cannot read the parameters cell: {err}", file=sys.stderr)
            continue
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                for name in ast.walk(target) if target is not None else []:
                    if isinstance(name, ast.Name):
                        names.add(name.id)
    return names


def note_runner_error(output: Path, source: Path, message: str) -> None:
    """Make sure ``output`` exists and shows ``message`` (for failures papermill does not record)."""
    import nbformat

    nb = nbformat.read(output if output.exists() else source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"**The course runner stopped this chapter:**\n\n```\n{message}\n```"))
    nbformat.write(nb, output)


MATHJAX_DIR = "_static/mathjax"  # the local MathJax, relative to the reports folder


def to_html(notebook: Path, html_path: Path, no_input: bool, mathjax: bool = True) -> None:
    """Convert an executed notebook to one HTML file with its images embedded.

    With ``mathjax`` (a copy in ``<reports>/_static/mathjax``, see :func:`offline_math.install_mathjax`)
    the page loads that copy instead of nbconvert's CDN, so its equations are typeset offline, and
    it loads nothing else from the web. A widget shows the text fallback that the chapter stores
    with it (its controls would do nothing without a kernel).
    """
    import nbformat
    from nbconvert import HTMLExporter

    options = dict(embed_images=True, exclude_input=no_input, exclude_input_prompt=no_input)
    url = offline_math.mathjax_url(MATHJAX_DIR)
    if mathjax:
        options["mathjax_url"] = url
    nb = nbformat.read(notebook, as_version=4)
    # Without a kernel a widget's controls do nothing: show the text that the chapter stores for it instead.
    nb.metadata.pop("widgets", None)
    body, _ = HTMLExporter(**options).from_notebook_node(nb)
    if mathjax:  # MathJax's settings must be in place before MathJax.js loads
        tag = f'<script src="{url}"'
        body = body.replace(tag, offline_math.settings_script() + "\n" + tag, 1)
        body = offline_math.drop_web_scripts(body)
    html_path.write_text(body, encoding="utf-8")


def kernel_manager_class():
    """The kernel manager for papermill: IPC sockets where the system has them, else TCP.

    Over TCP every kernel warns "Kernel is running over TCP without encryption ...", once per
    chapter. Unix-domain sockets (``transport = "ipc"``) stay on this machine and need no
    such warning.
    """
    from jupyter_client.manager import AsyncKernelManager

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"

    return IPCKernelManager


def run_chapter(source: Path, out_dir: Path, params: dict, args: argparse.Namespace) -> ChapterResult:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = out_dir / source.name
    title = chapter_title(nbformat.read(source, as_version=4)) or source.stem
    error = ""
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=params,
            kernel_name=KERNEL,
            language="python",
            cwd=str(args.notebooks),
            execution_timeout=args.execution_timeout,
            progress_bar=sys.stderr.isatty(),
            kernel_manager_class=kernel_manager_class(),
        )
    except PapermillExecutionError as err:  # a cell raised; papermill saved the notebook with the traceback
        error = f"{err.ename}: {err.evalue}"
    except Exception as err:  # timeout, dead kernel, ...: record it in the notebook ourselves
        error = f"{type(err).__name__}: {err}"
        note_runner_error(output, source, error)
    seconds = time.perf_counter() - start
    to_html(output, output.with_suffix(".html"), args.no_input, mathjax=getattr(args, "mathjax", True))
    return ChapterResult(source.stem, title, seconds, passed=not error, params=params, error=error)


# ---------------------------------------------------------------------------
# The index page
# ---------------------------------------------------------------------------

INDEX_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #176f2c; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
.meta { color: #555; }
code { font-size: .9em; }
"""


def device_name() -> str:
    try:
        import torch
    except ImportError:
        return "unknown (torch not importable)"
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    return f"CPU (torch {torch.__version__})"


def kit_version() -> str:
    try:
        import naomi_lite
    except ImportError:
        return "unknown"
    return naomi_lite.__version__


def claims_section(out_dir: Path) -> str:
    """The body of ``claims.html`` (written by chapter 07) as a section of the index, or ''.

    Its own ``<h1>`` becomes the section's one heading (``<h2 id="claims">``), so that the
    index does not show the claims' heading twice.
    """
    claims = out_dir / "claims.html"
    if not claims.exists():
        return ""
    text = claims.read_text(encoding="utf-8")
    lower = text.lower()
    if "<body" in lower:  # a whole page: keep what is inside <body>
        start = lower.index(">", lower.index("<body")) + 1
        end = lower.find("</body>", start)
        text = text[start:end if end != -1 else None]
    heading = "Paper claims"
    match = re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.IGNORECASE | re.DOTALL)
    if match:  # claims.html's own title: keep it as the one heading of the section
        heading = match.group(1).strip() or heading
        text = text[: match.start()] + text[match.end():]
    written = datetime.datetime.fromtimestamp(claims.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return (
        f'<h2 id="claims">{heading}</h2>\n'
        f'<p class="meta">From <a href="claims.html">claims.html</a>, written {written}.</p>\n'
        f"{text.strip()}\n"
    )


def write_index(out_dir: Path, results: list[ChapterResult], total_seconds: float) -> Path:
    rows = []
    for r in results:
        mark = '<span class="pass">PASS</span>' if r.passed else '<span class="fail">FAIL</span>'
        if r.error:
            mark += f'<br><small>{html.escape(r.error.splitlines()[0][:200])}</small>'
        params = ", ".join(f"{k}={v!r}" for k, v in r.params.items())
        rows.append(
            "<tr>"
            f"<td>{html.escape(r.name[:2])}</td>"
            f"<td>{html.escape(r.title)}"
            + (f'<br><small class="meta">parameters: <code>{html.escape(params)}</code></small>' if params else "")
            + "</td>"
            f'<td class="num">{r.seconds:.1f}</td>'
            f"<td>{mark}</td>"
            f'<td><a href="{html.escape(r.name)}.html">HTML</a> · <a href="{html.escape(r.name)}.ipynb">notebook</a></td>'
            "</tr>"
        )
    passed = sum(r.passed for r in results)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(COURSE_TITLE)}</title>
<style>{INDEX_CSS}</style>
</head>
<body>
<h1>{html.escape(COURSE_TITLE)}</h1>
<p class="meta">Run on {now} · device: {html.escape(device_name())} · naomi_lite {html.escape(kit_version())}</p>
<table>
<thead><tr><th>#</th><th>Chapter</th><th>Time (s)</th><th>Result</th><th>Report</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
<tfoot><tr><th></th><th>Total: {passed} of {len(results)} passed</th>
<th class="num">{total_seconds:.1f}</th><th></th><th></th></tr></tfoot>
</table>
{claims_section(out_dir)}</body>
</html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import nbformat  # imported after argument checks, so usage errors come back fast

    out_dir = args.out_dir  # checked by parse_args
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"run_course.py: error: cannot create {out_dir}: {err.strerror or err}", file=sys.stderr)
        return 2
    os.environ["NAOMI_REPORTS_DIR"] = str(out_dir)  # chapter 07 writes claims.html here (kernels inherit it)
    args.mathjax = offline_math.install_mathjax(out_dir / "_static") is not None
    if not args.mathjax:
        print("note: jupyter-server-mathjax is not installed (pip install -e '.[course]'), so the reports "
              "load MathJax from the web and show raw LaTeX offline", file=sys.stderr)

    # Each parameter goes only to the chapters that declare it.
    plan = []
    used = set()
    print("Parameters per chapter:")
    for source in args.chapters:
        declared = declared_parameters(nbformat.read(source, as_version=4))
        params = {k: v for k, v in args.params.items() if k in declared}
        used |= params.keys()
        plan.append((source, params))
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "(none)"
        print(f"  {source.stem}: {shown}")
    for name in args.params.keys() - used:
        print(f"warning: no chapter run here declares parameter {name!r}; it was not passed anywhere", file=sys.stderr)

    results = []
    start = time.perf_counter()
    for i, (source, params) in enumerate(plan, 1):
        print(f"[{i}/{len(plan)}] {source.stem} ...", flush=True)
        result = run_chapter(source, out_dir, params, args)
        results.append(result)
        status = "PASS" if result.passed else f"FAIL ({result.error.splitlines()[0]})"
        print(f"[{i}/{len(plan)}] {source.stem}: {status} in {result.seconds:.1f} s", flush=True)
    total = time.perf_counter() - start

    index = write_index(out_dir, results, total)
    failed = [r.name for r in results if not r.passed]
    print(f"Report: {index}")
    print(f"Total time: {total:.1f} s; {len(results) - len(failed)} of {len(results)} chapters passed")
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
