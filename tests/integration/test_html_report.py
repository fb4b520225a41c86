"""report.html opened in headless Chromium: it renders offline, every chart has its data
points, and a screenshot is kept (in the test's tmp dir and wasm-tune-artifacts/test-report/)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_wasm_tune import defaults
from pytest_wasm_tune.artifacts.html_report import write_html
from pytest_wasm_tune.browsers.sandbox import sandbox_flags

from ..unit.report_data import sample_report

pytestmark = pytest.mark.integration
KEPT = Path(__file__).resolve().parents[2] / "wasm-tune-artifacts" / "test-report"


@pytest.fixture
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(defaults.CHROMIUM_BINARY)
    for flag in (*defaults.CHROMIUM_FLAGS, *sandbox_flags(), "--window-size=1200,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(defaults.CHROMEDRIVER_BINARY)))
    try:
        yield driver
    finally:
        driver.quit()


CHART_COUNTS = """
return [...document.querySelectorAll('figure.chart')].map(figure => ({
    kind: figure.dataset.chart,
    points: Number(figure.dataset.points),
    paths: figure.querySelectorAll('svg path').length,
    markers: figure.querySelectorAll('svg use').length,
    width: figure.querySelector('svg').getBoundingClientRect().width,
}));
"""


def test_the_report_renders_offline_with_data_in_every_chart(chromium, tmp_path: Path) -> None:
    page = write_html(sample_report(), tmp_path / "report.html")
    chromium.get(page.as_uri())
    assert chromium.title == "wasm-tune 20261202T100000-abc"
    assert chromium.execute_script("return performance.getEntriesByType('resource').length") == 0
    charts = chromium.execute_script(CHART_COUNTS)
    kinds = [chart["kind"] for chart in charts]
    assert kinds[:3] == ["default-vs-tuned", "per-browser", "model"]
    assert kinds.count("curve") == kinds.count("spread") == 3
    for chart in charts:
        assert chart["points"] > 0 and chart["paths"] > 0 and chart["width"] > 200, chart
    for curve in (chart for chart in charts if chart["kind"] == "curve"):
        assert curve["markers"] >= curve["points"]  # a marker per measured trial

    height = chromium.execute_script("return document.documentElement.scrollHeight")
    chromium.set_window_size(1200, height)
    screenshot = tmp_path / "report.png"
    assert chromium.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 50_000
    KEPT.mkdir(parents=True, exist_ok=True)
    for file in (screenshot, page):
        shutil.copyfile(file, KEPT / file.name)
    print(f"report screenshot: {KEPT / screenshot.name}")
