"""The built wheel, installed outside the repository, runs the fast check of a task in Chromium."""

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
WEB_FILES = ("page/index.html", "package.json", "package-lock.json", "build_tvmjs.mjs")
TASK = """
from tvm import te


def test_matmul(wasm_tune):
    A = te.placeholder((64, 64), name="A")
    B = te.placeholder((64, 64), name="B")
    k = te.reduce_axis((0, 64), name="k")
    C = te.compute((64, 64), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    assert wasm_tune(te.create_prim_func([A, B, C])).correct
"""


def _run(argv: list[str], cwd: Path, timeout_s: float = 180) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _source_copy(dest: Path) -> Path:
    """What the wheel is built from (no build/ or egg-info in the checkout, no node_modules)."""
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "dist", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, dest / name)
    shutil.copytree(
        REPO / "pytest_wasm_tune", dest / "pytest_wasm_tune", symlinks=True, ignore=ignore
    )
    shutil.copytree(REPO / "web", dest / "web", ignore=ignore)
    return dest


def test_the_installed_wheel_checks_a_task_in_chromium(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = _source_copy(tmp_path / "src")
    # with .venv's setuptools (the dev extra): no registry, seconds instead of minutes
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    _run([*build, str(source), "-w", "wheels"], tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("pytest_wasm_tune-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    web = {name.removeprefix("pytest_wasm_tune/web/") for name in shipped if "/web/" in name}
    page = {f"page/{path.name}" for path in (REPO / "web/page").iterdir()}
    assert web == page | set(WEB_FILES)  # the page and the build inputs, no peers or tests

    venv = tmp_path / "venv"
    _run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path,
        ).strip()
    )
    # TVM and the other dependencies come from .venv (its .pth files, e.g. our editable
    # install's finder, are not processed from a path added this way, and it comes after site)
    (site / "reuse_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: pip sees .venv's pytest-wasm-tune through that path and skips a wheel
    # of the same version when that install is not editable
    install = ["install", "-q", "--no-deps", "--ignore-installed", str(wheel)]
    _run([sys.executable, "-m", "pip", "--python", str(python), *install], tmp_path)

    where = _run(
        [str(python), "-c", "import pytest_wasm_tune.page as p; print(p.__file__, p.PAGE_DIR)"],
        tmp_path,
    )
    module, page_dir = where.split()
    assert module.startswith(str(site)) and Path(page_dir) == site / "pytest_wasm_tune/web/page"
    assert (Path(page_dir) / "index.html").is_file()
    for name in WEB_FILES:  # real files, not the checkout's symlink
        assert (site / "pytest_wasm_tune/web" / name).is_file()
    assert not (site / "pytest_wasm_tune/web").is_symlink()

    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "test_small.py").write_text(TASK)
    out = _run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "tasks", "-q"], tmp_path, 300
    )
    assert "1 passed" in out and "wasm-tune summary (check)" in out
