"""Parametrization over browsers: ids end with the browser; only wasm_tune items get it."""

import pytest

pytest_plugins = ["pytester"]

FARM = """
[[browser]]
name = "grid-chrome"
url = "http://127.0.0.1:4444"
browserName = "chrome"
"""


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WASM_TUNE", "WASM_TUNE_BROWSERS", "WASM_TUNE_FARM"):
        monkeypatch.delenv(name, raising=False)


def test_ids_end_with_the_browser(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.fixture(params=["f32", "f16"])
        def dtype(request):
            return request.param

        @pytest.mark.parametrize("n", [1, 2])
        def test_x(n, wasm_tune):
            pass

        def test_plain():
            pass

        class TestGroup:
            @pytest.mark.parametrize("m", [3])
            def test_y(self, m, dtype, wasm_tune):
                pass
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_x.py::test_x[1-chromium]",
            "test_x.py::test_x[2-chromium]",
            "test_x.py::test_plain",
            "test_x.py::TestGroup::test_y[f32-3-chromium]",
            "test_x.py::TestGroup::test_y[f16-3-chromium]",
            "5 tests collected*",
        ]
    )


def test_an_item_can_pin_its_browsers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.parametrize("n, wasm_tune_browser", [(1, "chromium")])
        def test_x(n, wasm_tune):
            pass
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_x.py::test_x[1-chromium]", "1 test collected*"])


def test_farm_browsers_are_parametrized_too(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("farm.toml").write_text(FARM)
    pytester.makepyfile(test_x="def test_x(wasm_tune): pass")
    result = pytester.runpytest(
        "--collect-only",
        "-q",
        "--wasm-tune-farm=farm.toml",
        "--wasm-tune-browsers=chromium,grid-chrome",
    )
    result.stdout.fnmatch_lines(["test_x.py::test_x[chromium]", "test_x.py::test_x[grid-chrome]"])


def test_marker_selects_the_tasks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        def test_task(wasm_tune):
            pass

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest("--collect-only", "-q", "-m", "wasm_tune")
    result.stdout.fnmatch_lines(["test_x.py::test_task[chromium]", "1/2 tests collected*"])


def test_the_project_task_file_collects(pytester: pytest.Pytester) -> None:
    """tasks/test_matmul.py is the user-facing example: n in [256, 512], one browser."""
    from pathlib import Path

    source = Path(__file__).parents[2] / "tasks" / "test_matmul.py"
    pytester.makepyfile(test_matmul=source.read_text())
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["test_matmul.py::test_matmul[256-chromium]", "test_matmul.py::test_matmul[512-chromium]"]
    )
