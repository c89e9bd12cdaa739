"""The set-up files agree with each other: pyproject.toml's ranges, environment.yml (conda),
requirements-lock.txt (what CI installs), the Makefile and .ci/run."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:  # packaging is in the dev extra; pip always carries a copy
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

#: conda-forge names that differ from the pip names (pip name -> conda name)
PIP_TO_CONDA = {"matplotlib": "matplotlib-base"}
CONDA_TO_PIP = {v: k for k, v in PIP_TO_CONDA.items()}

COURSE = {"numpy", "scipy", "sympy", "matplotlib", "scikit-learn", "tqdm", "nbformat",
          "nbclient", "ipykernel", "ipywidgets", "autograd"}
DEV = {"jupyterlab", "nbval", "pytest", "pytest-xdist", "hypothesis", "nbstripout", "nbconvert"}


# ------------------------------------------------------------------------------- parsing
def pyproject():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def declared() -> dict:
    """{canonical name: Requirement} for [project] dependencies plus the dev extra."""
    project = pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    out = {}
    for r in reqs:
        name = canonicalize_name(r.name)
        assert name not in out, f"pyproject.toml lists {r.name} twice"
        out[name] = r
    return out


def conda_env() -> dict:
    import yaml  # PyYAML comes with JupyterLab (jupyter-events)

    with open(ROOT / "environment.yml") as fh:
        return yaml.safe_load(fh)


def conda_spec(entry: str):
    """'numpy>=1.26,<3' -> ('numpy', SpecifierSet('>=1.26,<3')), for conda's simple specs."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", entry)
    assert m, f"environment.yml: cannot read the entry {entry!r}"
    name, spec = m.groups()
    if re.fullmatch(r"=[^=<>!].*", spec):  # conda's fuzzy "=1.2" means 1.2.*
        spec = f"=={spec[1:].rstrip('.*')}.*"
    return name, SpecifierSet(spec.replace(" ", ""))


def conda_packages() -> dict:
    """{canonical pip name: SpecifierSet} for environment.yml's conda dependencies."""
    out = {}
    for entry in conda_env()["dependencies"]:
        if isinstance(entry, dict):  # the pip: section
            continue
        name, spec = conda_spec(entry)
        if name in ("python", "pip"):
            continue
        pip_name = canonicalize_name(CONDA_TO_PIP.get(name, name))
        assert pip_name not in out, f"environment.yml lists {name} twice"
        out[pip_name] = spec
    return out


def lock() -> dict:
    """{canonical name: Version} from requirements-lock.txt; every line must be name==version."""
    out = {}
    for n, line in enumerate((ROOT / "requirements-lock.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][^\s;]*)", line)
        assert m, (f"requirements-lock.txt:{n}: {line!r} is not an exact pin name==version; "
                   "regenerate the lock with `make lock`.")
        name = canonicalize_name(m.group(1))
        assert name not in out, f"requirements-lock.txt pins {m.group(1)} twice"
        out[name] = Version(m.group(2))
    return out


def installed_version(name):
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


def make_target(name: str) -> tuple[str, str]:
    """The prerequisites line and the recipe of a Makefile target (continuations joined)."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"^{re.escape(name)}\s*:(?!=)(.*)$", line)
        if m and "export" not in m.group(1):
            recipe = []
            for body in lines[i + 1:]:
                if not body.startswith("\t"):
                    break
                recipe.append(body.strip())
            return m.group(1), "\n".join(recipe)
    raise AssertionError(f"Makefile has no {name!r} target")


def dry_run(*args) -> str:
    """`make -n ARGS`: the commands make would run, without running them."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "-n", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.replace("\\\n", " ")


# ------------------------------------------------------------------------------- pyproject
def test_pyproject_declares_the_course_and_dev_packages():
    project = pyproject()["project"]
    main = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name)
           for r in project["optional-dependencies"]["dev"]}
    assert COURSE <= main, f"missing from [project] dependencies: {sorted(COURSE - main)}"
    assert DEV <= dev, f"missing from the dev extra: {sorted(DEV - dev)}"
    # torch is installed only by the CI job that runs the oracle tests, never by students.
    assert "torch" not in main | dev


def test_pyproject_dependencies_are_ranges_with_a_lower_bound_not_pins():
    for name, req in declared().items():
        ops = {s.operator for s in req.specifier}
        assert ops & {">=", ">", "~="}, f"{req}: give a lower bound (e.g. {name}>=X.Y)"
        assert not ops & {"==", "==="}, (f"{req}: pyproject.toml holds ranges; exact pins "
                                         "belong in requirements-lock.txt")


# ------------------------------------------------------------------------------- conda
def test_environment_yml_names_the_course_env_on_python_3_11_from_conda_forge():
    env = conda_env()
    assert env["name"] == "optim-dl"
    assert "conda-forge" in env["channels"]
    pythons = [e for e in env["dependencies"] if isinstance(e, str) and
               conda_spec(e)[0] == "python"]
    assert pythons == ["python=3.11"]
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version("3.11") in requires


def test_environment_yml_installs_course_lib_editable_with_pip():
    pip_sections = [e["pip"] for e in conda_env()["dependencies"] if isinstance(e, dict)]
    assert pip_sections == [["-e ."]]


def test_environment_yml_lists_the_same_packages_as_pyproject():
    conda, pip = set(conda_packages()), set(declared())
    assert conda == pip, (
        f"only in pyproject.toml: {sorted(pip - conda)}; only in environment.yml: "
        f"{sorted(conda - pip)} (conda names that differ from pip's: {PIP_TO_CONDA})")


def test_environment_yml_ranges_equal_pyproject_ranges():
    conda = conda_packages()
    for name, req in declared().items():
        assert conda[name] == req.specifier, (
            f"{name}: pyproject.toml says {req.specifier or 'any'}, environment.yml says "
            f"{conda[name] or 'any'}")


# ------------------------------------------------------------------------------- lock
def test_lock_pins_every_declared_dependency_within_its_range():
    pins = lock()
    for name, req in declared().items():
        assert name in pins, f"requirements-lock.txt does not pin {name}; run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements-lock.txt pins {name}=={pins[name]}, outside pyproject.toml's "
            f"{req}; run `make lock`")


def test_lock_pins_pip_which_make_installs_first():
    assert "pip" in lock()


def _closure(root_requirements) -> set:
    """Names of every installed distribution the requirements pull in, transitively."""
    env = default_environment()
    seen, todo = set(), list(root_requirements)
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # reported by the test below
        for sub in dist.requires or []:
            sub = Requirement(sub)
            if sub.marker is None or sub.marker.evaluate(env):  # extras of deps: not taken
                todo.append(sub)
    return seen


def _installed_from_lock() -> bool:
    pins = lock()
    return all(installed_version(n) == pins.get(n) for n in declared())


def test_installed_versions_satisfy_pyproject_ranges():
    for name, req in declared().items():
        v = installed_version(name)
        assert v is not None, f"{name} is not installed; run `make test` (it installs it)"
        assert req.specifier.contains(v, prereleases=True), (
            f"installed {name} {v} is outside pyproject.toml's {req}")


def test_lock_covers_everything_installed_for_the_course_at_the_pinned_versions():
    if not _installed_from_lock():
        if os.environ.get("CI"):
            pytest.fail("CI must install from requirements-lock.txt (make test does)")
        pytest.skip("this environment was not installed from requirements-lock.txt "
                    "(conda or by hand); make lab / make test install from it")
    pins = lock()
    needed = _closure(declared().values())
    missing = sorted(n for n in needed if n not in pins and installed_version(n) is not None)
    assert not missing, f"installed for the course but not in the lock: {missing}; `make lock`"
    differ = {n: (str(installed_version(n)), str(pins[n])) for n in needed
              if n in pins and installed_version(n) != pins[n]}
    assert not differ, f"installed vs locked: {differ}; `make test` reinstalls from the lock"


# ------------------------------------------------------------------------------- make & CI
def _commands(script: str):
    """Shell words of each non-comment line of a bash script (continuations joined)."""
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                yield shlex.split(line, comments=True)
            except ValueError:
                continue


def test_ci_runs_make_test_under_strict_bash():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash") or script.startswith("#!/bin/bash")
    assert "set -euo pipefail" in script
    make_calls = [words for words in _commands(script)
                  if "make" in words and "test" in words[words.index("make") + 1:]]
    assert make_calls, ".ci/run must run the tests through `make test`"


def test_make_test_installs_the_env_then_runs_pytest_on_tests_and_notebooks():
    prereqs, recipe = make_target("test")
    assert "$(STAMP)" in prereqs, "make test must set up the environment first"
    assert "pytest" in recipe and "--nbval-lax" in recipe and " tests " in f" {recipe} "
    commands = dry_run("test")
    assert "-m pytest" in commands
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")) + \
            sorted((ROOT / "solutions").glob("*.ipynb")):
        assert str(nb.relative_to(ROOT)) in commands, f"make test does not run {nb.name}"


def test_environment_reinstalls_when_pyproject_or_lock_change():
    for changed in ("pyproject.toml", "requirements-lock.txt"):
        commands = dry_run("-W", changed, "test")
        assert "-c requirements-lock.txt -e '.[dev]'" in commands, (
            f"a newer {changed} must rerun the install")
        assert "ipykernel install" in commands


def test_make_lab_starts_jupyterlab_with_pass_through_args():
    commands = dry_run("lab", "ARGS=--no-browser --port 8899")
    assert re.search(r"jupyter lab .*--no-browser --port 8899", commands)


# ------------------------------------------------------------------------------- README
def test_readme_course_map_points_at_notebooks_that_exist():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("|")]
    linked = [(path, row) for row in rows
              for path in re.findall(r"(?:notebooks|exercises)/\d\d[a-z]?_[a-z_]+\.ipynb", row)]
    assert linked, "README.md has no course map"
    for path, row in linked:
        if "coming" in row.lower():
            continue
        assert (ROOT / path).exists(), f"README.md's course map names {path}, which is missing"
    for nb in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"):
        assert f"notebooks/{nb.name}" in readme, f"README.md's course map lacks {nb.name}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
