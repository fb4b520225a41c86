"""Remote browsers for real: a local Selenium Grid 4 stands in for a device farm, and farm-file
entries are checked and tuned through webdriver.Remote exactly as a phone would be."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pytest_wasm_tune.config import Farm, load_farm
from pytest_wasm_tune.errors import BrowserError
from pytest_wasm_tune.kernels import build_wasm
from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.tuning import TuneOptions, TuneTask, tune

from .selenium_grid import GRID_JAR, SeleniumGrid

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 64
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 7) wasm-tune-capability-probe"


def _farm_file(grid_url: str) -> str:
    return f"""
[[browser]]
name = "grid-chromium"
url = "{grid_url}"
browserName = "chrome"
host = "127.0.0.1"
[browser.capabilities."goog:chromeOptions"]
binary = "/usr/bin/chromium"
args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--js-flags=--allow-natives-syntax"]
mobileEmulation = {{ userAgent = "{PHONE_UA}" }}

[[browser]]
name = "grid-firefox"
url = "{grid_url}"
browserName = "firefox"
[browser.capabilities."moz:firefoxOptions"]
binary = "/usr/bin/firefox-esr"
args = ["-headless"]
"""


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    if not GRID_JAR.exists():
        pytest.fail(f"{GRID_JAR} is missing: run `make setup` (npm ci in web/)")
    work = tmp_path_factory.mktemp("grid")
    with SeleniumGrid(work) as grid:
        path = work / "farm.toml"
        path.write_text(_farm_file(grid.url))
        yield load_farm(path)


@pytest.mark.parametrize("name", ["grid-chromium", "grid-firefox"])
def test_a_remote_browser_computes_a_kernel(farm: Farm, name: str, tmp_path: Path) -> None:
    with LocalStack(name, farm=farm, stage_dir=tmp_path / "stage") as stack:
        assert stack.browser.name == name and stack.browser.version
        assert stack.browser.browser_pids() == [], "the remote end owns its processes"
        built = build_wasm(matmul_prim_func(N), stack.linker)
        rng = np.random.default_rng(7)
        a, b = (rng.uniform(-1, 1, (N, N)).astype("float32") for _ in range(2))
        with stack.session(built.wasm) as session:
            info = session.info()
            if name == "grid-chromium":
                # the farm file's capabilities reached the browser unchanged
                assert info["userAgent"] == PHONE_UA
            args = [session.upload(a), session.upload(b), session.empty((N, N), "float32")]
            session.run("main", args)
            np.testing.assert_allclose(session.download(args[2]), a @ b, rtol=1e-4, atol=1e-4)


def test_a_remote_browser_tunes_a_kernel(farm: Farm, tmp_path: Path) -> None:
    with LocalStack("grid-chromium", farm=farm, stage_dir=tmp_path / "stage") as stack:
        task = TuneTask.from_prim_func(matmul_prim_func(N), f"matmul{N}")
        result = tune(task, stack.workbench, tmp_path, TuneOptions(trials=8, trials_per_iter=8))
    assert result.browser == "grid-chromium" and result.database_dir.name == "grid-chromium"
    assert result.trials == 8 and result.measured > 0 and result.correct
    # every record says which browser, version and host measured it
    assert {(e.browser, e.host) for e in result.trial_log} == {("grid-chromium", "127.0.0.1")}
    assert all(e.browser_version == stack.browser.version != "" for e in result.trial_log)


def test_an_unreachable_remote_browser_fails_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "farm.toml"
    path.write_text(
        '[[browser]]\nname = "gone"\nurl = "http://127.0.0.1:9"\nbrowserName = "chrome"\n'
    )
    notes: list[str] = []
    stack = LocalStack(
        "gone", farm=load_farm(path), stage_dir=tmp_path / "stage", progress=notes.append
    )
    with pytest.raises(BrowserError, match=r"gone \(chrome at http://127.0.0.1:9\)"), stack:
        pass
    assert [n for n in notes if "times to reach gone; retrying" in n] == [
        "Failed 1/3 times to reach gone; retrying" + notes[0].split("retrying", 1)[1],
        "Failed 2/3 times to reach gone; retrying" + notes[1].split("retrying", 1)[1],
    ]
