"""The three places that say how to install the kit must agree.

* ``pyproject.toml``: ``[project].dependencies`` plus the ``dev``, ``course`` and ``peers`` extras (pip, ``make``);
* ``environment.yml``: the conda dependencies (conda-forge only) plus its ``pip:`` section;
* ``Makefile``: pins the CPU build ``torch==2.13.0``; ``.ci/run`` runs ``make test``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # standard library from Python 3.11

ROOT = Path(__file__).resolve().parent.parent
TORCH_PIN = "2.13.0"

# conda names that differ from the pip name of the same package
CONDA_TO_PIP = {"pytorch": "torch"}
# conda entries that are not packages of the kit (pytorch-cpu: conda-forge's metapackage for the CPU build)
NOT_KIT_PACKAGES = {"python", "pip", "pytorch-cpu"}
EXTRAS_IN_ENVIRONMENT = ("dev", "course", "peers")  # pyproject extras that environment.yml installs too


def split_requirement(spec: str) -> tuple[str, str]:
    """``'numpy>=1.24'`` -> ``('numpy', '>=1.24')``; names normalised as pip does (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)", spec)
    assert match, f"cannot read requirement {spec!r}"
    name, version = match.groups()
    return re.sub(r"[-_.]+", "-", name).lower(), version.strip()


def read_environment_yml(text: str) -> list:
    """Read environment.yml with PyYAML when it is installed, else with :func:`parse_simple_yaml`."""
    try:
        import yaml
    except ImportError:
        return parse_simple_yaml(text)["dependencies"]
    return yaml.safe_load(text)["dependencies"]


def parse_simple_yaml(text: str) -> dict:
    """Just enough YAML for environment.yml: top-level keys, ``- item`` lists, one nested ``- pip:`` list."""
    result: dict = {}
    current_list: list | None = None
    pip_list: list | None = None
    pip_indent = -1
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if indent == 0:  # "name: value" or "dependencies:"
            key, _, value = item.partition(":")
            result[key.strip()] = value.strip() or []
            current_list = result[key.strip()] if not value.strip() else None
            pip_list = None
        elif item.startswith("- ") and pip_list is not None and indent > pip_indent:
            pip_list.append(item[2:].strip())
        elif item.startswith("- ") and current_list is not None:
            entry = item[2:].strip()
            if entry.endswith(":"):  # "- pip:" opens a nested list
                pip_list, pip_indent = [], indent
                current_list.append({entry[:-1]: pip_list})
            else:
                pip_list = None
                current_list.append(entry)
    return result


def pyproject_packages() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    specs = list(project["dependencies"]) + [spec for name in EXTRAS_IN_ENVIRONMENT for spec in extras.get(name, [])]
    return dict(split_requirement(spec) for spec in specs)


def conda_packages() -> dict[str, str]:
    """conda and pip entries of environment.yml, as pip names; conda's ``=1.2`` pin is kept as written."""
    packages: dict[str, str] = {}
    for entry in read_environment_yml((ROOT / "environment.yml").read_text()):
        if isinstance(entry, dict):  # the "pip:" section
            for pip_entry in entry.get("pip", []):
                if not pip_entry.startswith("-"):  # skip "-e ." and other options
                    name, version = split_requirement(pip_entry)
                    packages[name] = version
            continue
        name, version = split_requirement(str(entry))
        if name not in NOT_KIT_PACKAGES:
            packages[CONDA_TO_PIP.get(name, name)] = version
    return packages


def test_pyproject_and_environment_yml_name_the_same_packages():
    pip_names, conda_names = set(pyproject_packages()), set(conda_packages())
    assert pip_names == conda_names, (
        f"only in pyproject.toml: {sorted(pip_names - conda_names)}; "
        f"only in environment.yml: {sorted(conda_names - pip_names)}"
    )


def test_version_bounds_agree():
    """torch too: conda-forge builds PyTorch, and the kit's range is the same on both routes."""
    pip, conda = pyproject_packages(), conda_packages()
    differ = {name: (pip[name], conda[name]) for name in pip.keys() & conda.keys() if pip[name] != conda[name]}
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"


def test_environment_yml_asks_conda_forge_for_a_cpu_pytorch():
    """The `pytorch` channel stopped after PyTorch 2.5 (pytorch/pytorch#138506): conda-forge only, no `cpuonly`."""
    text = (ROOT / "environment.yml").read_text()
    try:
        import yaml
        channels = yaml.safe_load(text)["channels"]
    except ImportError:
        channels = parse_simple_yaml(text)["channels"]
    assert channels == ["conda-forge"]
    entries = [str(e) for e in read_environment_yml(text) if not isinstance(e, dict)]
    assert "pytorch-cpu" in entries and "cpuonly" not in entries
    assert conda_packages()["torch"] == pyproject_packages()["torch"]


def test_makefile_pins_the_cpu_torch_wheel():
    assert f"TORCH_SPEC ?= torch=={TORCH_PIN}" in (ROOT / "Makefile").read_text()


def test_makefile_pins_cpu_torch():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^TORCH_SPEC\s*\?=\s*torch=={re.escape(TORCH_PIN)}\s*$", makefile, re.M), (
        f"the Makefile should set TORCH_SPEC ?= torch=={TORCH_PIN}"
    )


def test_ci_runs_make_test():
    script = ROOT / ".ci" / "run"
    commands = [line.strip() for line in script.read_text().splitlines() if not line.strip().startswith("#")]
    assert "make test" in commands, ".ci/run should call `make test`"
    assert os.access(script, os.X_OK), ".ci/run should be executable"


def test_simple_yaml_parser_reads_environment_yml():
    text = (ROOT / "environment.yml").read_text()
    deps = parse_simple_yaml(text)["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section[-1] == "-e ."
    yaml = pytest.importorskip("yaml")
    assert deps == yaml.safe_load(text)["dependencies"]


def test_simple_yaml_parser_on_a_made_up_file():
    text = "name: x  # comment\nchannels:\n  - a\ndependencies:\n  - numpy>=1\n  - pip\n  - pip:\n      - -e .\n      - foo==2\n"
    assert parse_simple_yaml(text) == {
        "name": "x", "channels": ["a"], "dependencies": ["numpy>=1", "pip", {"pip": ["-e .", "foo==2"]}],
    }
