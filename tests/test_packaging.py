"""Setup and packaging: the README's two commands, the wheel, and what ``import igmeta`` needs.

* ``scripts/run.sh`` in a fresh ``git clone`` of this checkout's HEAD creates ``.venv``,
  installs ``requirements.txt`` and serves ``/_stcore/health``; a second run reuses the
  environment; a failed download (no network) gives a clear message.
* Both scripts refuse a Python older than 3.11 and say which one they found.
* A wheel built from the source installs into a clean virtual environment with only its
  declared dependencies (no plotly, openpyxl or streamlit) and runs a meta-analysis.
* ``pyproject.toml`` agrees with the pins of ``requirements.txt``.

The clone and wheel tests install packages (pip's cache makes them quicker after the first
run) and are marked ``slow``; they run in the default test command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import igmeta
from devtools.local_server import free_port

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Environment variables that would point the scripts at another interpreter or venv.
_SCRIPT_ENV_DROP = ("VIRTUAL_ENV", "PYTHON", "IGMETA_VENV", "PYTHONPATH")


def _pins(path: Path) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line!r} is not pinned"
            pins[req.name.lower()] = spec.version
    return pins


def _declared() -> dict[str, list[Requirement]]:
    """Requirements of pyproject.toml by group: "core" and each extra."""
    project = PYPROJECT["project"]
    groups = {"core": [Requirement(r) for r in project["dependencies"]]}
    for extra, reqs in project["optional-dependencies"].items():
        groups[extra] = [Requirement(r) for r in reqs]
    return groups


def _script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRIPT_ENV_DROP}
    env.update(extra)
    return env


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(cmd, check=False, **kwargs)


def _checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


# --------------------------------------------------------------------- declared dependencies


def test_pyproject_agrees_with_requirements_txt():
    pins = _pins(ROOT / "requirements.txt")
    groups = _declared()
    assert {r.name for r in groups["core"]} == {"numpy", "scipy", "pandas"}
    assert {r.name for r in groups["plots"]} == {"plotly"}
    assert {"kaleido", "openpyxl"} <= {r.name for r in groups["export"]}
    app = {r.name: r for r in groups["app"]}
    assert set(app) == {"igmeta", "streamlit"}
    assert app["igmeta"].extras == {"plots", "export"}  # the app extra is everything
    declared = {}
    for reqs in groups.values():
        for req in reqs:
            if req.name != "igmeta":
                declared.setdefault(req.name.lower(), []).append(req)
    assert set(pins) == set(declared), "requirements.txt and pyproject.toml name other packages"
    for name, version in pins.items():
        for req in declared[name]:
            assert req.specifier.contains(version), f"{name}=={version} is outside {req}"


def test_version_comes_from_pyproject():
    assert igmeta.__version__ == PYPROJECT["project"]["version"]


_CORE_ONLY = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"plotly", "openpyxl", "kaleido", "streamlit", "docx"}:
                raise ImportError(f"No module named {name!r} (blocked by the test)")

    sys.meta_path.insert(0, Block())
    import igmeta
    from igmeta.app.intake.io import read_table

    table = igmeta.datasets.load_ig_pnp()
    es = igmeta.effect_sizes("RR", ai=[7, 12, 13], n1i=[11, 30, 19], ci=[1, 9, 2],
                             n2i=[12, 30, 20])
    res = igmeta.meta_analysis(es, method="REML")
    excel = read_table(open(sys.argv[1], "rb").read(), "studies.xlsx")
    print(json.dumps({"version": igmeta.__version__, "k": len(table),
                      "estimate": res.estimate, "excel": excel.messages[0][1]}))
    """
)


def test_core_import_needs_no_plotly_openpyxl_or_streamlit(tmp_path):
    import pandas as pd

    xlsx = tmp_path / "studies.xlsx"
    pd.DataFrame({"study": ["A"], "ai": [1]}).to_excel(xlsx, index=False)
    result = _checked(_run([sys.executable, "-c", _CORE_ONLY, str(xlsx)], cwd=ROOT))
    out = json.loads(result.stdout)
    es = igmeta.effect_sizes("RR", ai=[7, 12, 13], n1i=[11, 30, 19], ci=[1, 9, 2], n2i=[12, 30, 20])
    assert out["estimate"] == pytest.approx(igmeta.meta_analysis(es, method="REML").estimate)
    assert out["version"] == igmeta.__version__
    assert out["k"] == len(igmeta.datasets.load_ig_pnp())
    assert "openpyxl" in out["excel"] and "pip install 'igmeta[export]'" in out["excel"]


def test_figure_export_without_kaleido_names_the_extra(monkeypatch):
    import plotly.graph_objects as go

    from igmeta.app.outputs import exports

    if not Path(exports.browser_path()).exists():
        pytest.fail("Chromium is missing: run the README's test command")
    monkeypatch.setitem(sys.modules, "kaleido", None)  # "import kaleido" now fails
    # A fresh renderer: the process's own may already hold a running kaleido browser (a page
    # drawn earlier in this process started it in the background), which needs no import.
    monkeypatch.setattr(exports, "_RENDERER", exports._Renderer())
    with pytest.raises(exports.ExportError, match=r"pip install 'igmeta\[export\]'"):
        exports.figure_bytes(go.Figure(go.Scatter(x=[1], y=[1])), "svg")


# ------------------------------------------------------------------------------- the wheel


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_wheel_installs_with_its_declared_dependencies_only(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "igmeta", src / "igmeta", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _checked(_run([*pip, "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path / "dist")]))
    (wheel,) = (tmp_path / "dist").glob("igmeta-*.whl")
    assert wheel.name.startswith(f"igmeta-{igmeta.__version__}-")

    # The declared core dependencies at the tested pins, downloaded once (pip's cache).
    pins = _pins(ROOT / "requirements.txt")
    core = [f"{r.name}=={pins[r.name]}" for r in _declared()["core"]]
    wheelhouse = tmp_path / "wheelhouse"
    _checked(_run([*pip, "download", "-q", "-d", str(wheelhouse), *core]))

    venv = tmp_path / "venv"
    _checked(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)]))
    python = venv / "bin" / "python"
    install = [*pip, "--python", str(python), "install", "-q", "--no-compile", "--no-index"]
    _checked(_run([*install, "--find-links", str(wheelhouse), str(wheel)]))

    probe = textwrap.dedent(
        """
        import importlib.util, json
        import igmeta, igmeta.datasets
        es = igmeta.effect_sizes("OR", ai=[7, 12, 13], n1i=[11, 30, 19], ci=[1, 9, 2],
                                 n2i=[12, 30, 20])
        res = igmeta.meta_analysis(es, method="DL")
        print(json.dumps({
            "version": igmeta.__version__,
            "file": igmeta.__file__,
            "k": len(igmeta.datasets.load_ig_pnp()),
            "estimate": res.estimate,
            "absent": [m for m in ("plotly", "openpyxl", "kaleido", "streamlit")
                       if importlib.util.find_spec(m) is None],
        }))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = json.loads(_checked(_run([str(python), "-c", probe], cwd=tmp_path, env=env)).stdout)
    assert out["version"] == igmeta.__version__
    assert Path(out["file"]).is_relative_to(venv), "igmeta was not imported from the wheel"
    assert out["absent"] == ["plotly", "openpyxl", "kaleido", "streamlit"]
    assert out["k"] == len(igmeta.datasets.load_ig_pnp())  # the CSV is in the wheel
    es = igmeta.effect_sizes("OR", ai=[7, 12, 13], n1i=[11, 30, 19], ci=[1, 9, 2], n2i=[12, 30, 20])
    assert out["estimate"] == pytest.approx(igmeta.meta_analysis(es, method="DL").estimate)


# ----------------------------------------------------------------------------- the scripts


@pytest.mark.parametrize("script", ["run.sh", "test.sh"])
def test_scripts_refuse_python_older_than_3_11(tmp_path, script):
    fake = tmp_path / "bin" / "python3"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 3.10.12\n")
    fake.chmod(0o755)
    env = _script_env(PATH=f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = _run(["bash", str(ROOT / "scripts" / script)], env=env, timeout=60)
    assert result.returncode != 0
    assert result.stdout.startswith("[1/"), result.stdout
    assert "creating" not in result.stdout  # stopped before touching .venv
    message = " ".join(result.stderr.split())
    assert "needs Python 3.11 or newer" in message
    assert f"'python3' is Python 3.10.12 ({fake})" in message
    assert "PYTHON=python3.11" in message


def _wait_for_health(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"run.sh exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"no /_stcore/health within {timeout:.0f} s:\n{log.read_text()}")


def _serve_once(clone: Path, log: Path) -> str:
    """Run ``scripts/run.sh PORT`` in ``clone`` until healthy, stop it, return its output."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/run.sh", str(port)],
            cwd=clone,
            env=_script_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    try:
        _wait_for_health(proc, f"http://127.0.0.1:{port}", log, timeout=900)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    return log.read_text()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_run_sh_in_a_fresh_clone(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "igmeta"
    _checked(_run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)]))
    assert not (clone / ".venv").exists()

    first = _serve_once(clone, tmp_path / "first.log")
    steps = ("checking Python", "creating", "installing", "checking Chromium")
    for n, what in enumerate(steps, 1):
        assert f"[{n}/4] {what}" in first, first
    assert (clone / ".venv" / "bin" / "python").exists()
    assert "reusing" not in first

    second = _serve_once(clone, tmp_path / "second.log")
    assert "reusing" in second and "nothing to do" in second, second

    # A changed requirements file without network: a clear message, nothing started.
    stamp = clone / ".venv" / ".igmeta-requirements.sha256"
    before = stamp.read_text()
    with (clone / "requirements.txt").open("a") as f:
        f.write("statsmodels==0.15.0\n")
    offline = _script_env(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="https://pypi.org/simple",
        PIP_EXTRA_INDEX_URL="",
        PIP_FIND_LINKS="",
        PIP_NO_CACHE_DIR="1",
        PIP_RETRIES="0",
        PIP_DEFAULT_TIMEOUT="5",
        HTTPS_PROXY="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    result = _run(["bash", "scripts/run.sh", "1"], cwd=clone, env=offline, timeout=600)
    assert result.returncode != 0
    assert "Starting igmeta" not in result.stdout
    message = " ".join(result.stderr.split())
    assert "pip could not download the packages of requirements.txt" in message, message
    assert "network" in message
    assert stamp.read_text() == before


DEBIAN_PYTHON = Path("/usr/bin/python3")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_test_sh_on_the_debian_system_python(tmp_path):
    """The README's test command on Debian's own, externally managed Python: it makes the
    project venv from it and never pip-installs into the system (PEP 668 would refuse)."""
    managed = list(DEBIAN_PYTHON.parent.parent.glob("lib/python3*/EXTERNALLY-MANAGED"))
    if not DEBIAN_PYTHON.exists() or not managed:
        pytest.skip("no Debian system Python (/usr/bin/python3, EXTERNALLY-MANAGED) here")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "igmeta"
    _checked(_run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)]))
    env = _script_env(PYTHON=str(DEBIAN_PYTHON))
    command = ["bash", "scripts/test.sh", "-q", "tests/test_datasets.py"]
    result = _run(command, cwd=clone, env=env, timeout=1500)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    for n, what in enumerate(("checking Python", "creating", "installing"), 1):
        assert f"[{n}/5] {what}" in result.stdout, result.stdout
    assert f"({DEBIAN_PYTHON})" in result.stdout or str(DEBIAN_PYTHON) in result.stdout
    config = (clone / ".venv" / "pyvenv.cfg").read_text()
    assert "home = /usr/bin" in config, config  # the venv is built on the system Python
    assert re.search(r"\d+ passed", result.stdout), result.stdout
