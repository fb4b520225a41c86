"""report.html from a report built of real result structures: what it shows, self-contained."""

import json
import re
from pathlib import Path

from pytest_wasm_tune.__main__ import main
from pytest_wasm_tune.artifacts.html_report import render_html
from pytest_wasm_tune.artifacts.publish import publish, tasks_dir, with_peers
from pytest_wasm_tune.artifacts.results import result_to_dict

from .report_data import model_record, sample_report, tune_result


def charts(page: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for kind, points in re.findall(r'data-chart="([a-z-]+)" data-points="(\d+)"', page):
        found.setdefault(kind, []).append(int(points))
    return found


def test_every_chart_of_a_run_with_its_data_points() -> None:
    report = sample_report()
    page = render_html(report)
    measured = [
        sum(1 for t in task["trial_log"] if t["outcome"] == "measured") for task in report["tasks"]
    ]
    assert charts(page) == {
        "default-vs-tuned": [6],  # 3 task results × default and tuned
        "per-browser": [3],
        "model": [4],  # tuned, untuned, 2 peers
        "curve": measured,  # one point per measured trial
        "spread": [27, 27, 27],  # 3 finalists × 9 rounds
    }
    # matplotlib's SVG: markers are <use> of a <path>, each chart's SVG inline
    assert page.count("<svg") == 9 and page.count("<use ") > sum(measured)
    # the headline first: the model, then the largest speedup, then the table
    model = page.index('<p class="headline">resnet-18 in chromium 156.0: tuned 205.0 ms')
    assert model < page.index("Largest speedup") < page.index("<table>") < page.index("<svg")
    assert "peers (make bench of 2026-12-02 10:00): tfjs 124.5 ms, ort 140.6 ms" in page
    assert "Largest speedup: matmul128 · chromium 12.00x" in page
    assert "AMD EPYC 9B14 (family 25, model 17), 2 CPUs" in page and "chromium 156.0" in page
    assert "<h2>Warm start</h2>" in page and "<td>26</td>" in page  # trials saved
    assert "cold run (warm start&#x27;s source)" in page or "cold run" in page
    siblings = page[page.index("<h2>Sibling seeds</h2>") :]
    assert "<td>conv</td><td>chromium</td><td>3</td><td>3</td><td>41.25</td>" in siblings
    assert "conv_56-0123456789ab" in siblings
    # self-contained: nothing to fetch
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page


def test_comparison_section_when_the_run_was_compared() -> None:
    report = sample_report()
    report["comparison"] = {
        "baseline": "20261201T100000",
        "limit_pct": 5.0,
        "deltas": [{"task": "mm", "browser": "chromium", "baseline_s": 0.01, "current_s": 0.012,
                    "change_pct": 20.0, "beyond_spread": True, "verdict": "REGRESSED"}],
    }  # fmt: skip
    page = render_html(report)
    assert "Against run 20261201T100000, failing above +5 % beyond both IQRs" in page
    assert '<span class="bad">REGRESSED</span>' in page and "<td>+20.0 %</td>" in page


def test_a_kept_default_shows_in_the_table_and_never_heads_the_page() -> None:
    kept = result_to_dict(
        tune_result("matmul128", "chromium", 0.0008, default_kept=True), nodeid="n", mode="tune"
    )
    assert kept["default_kept"] is True
    report = sample_report()
    report["tasks"][0]["default_kept"] = True  # matmul128 in chromium, the largest speedup
    page = render_html(report)
    assert "<td>default kept</td>" in page
    assert "Largest speedup: matmul128 · firefox 12.00x" in page


def test_a_check_run_without_trials_still_renders() -> None:
    report = sample_report()
    for task in report["tasks"]:
        task.update(trial_log=[], finalists=[], warm_start=None)
    report["models"] = []
    assert set(charts(render_html(report))) == {"default-vs-tuned", "per-browser"}


def test_published_runs_are_kept_listed_and_rebuilt(tmp_path: Path, capsys) -> None:
    artifacts = tmp_path / "artifacts"
    report = {**sample_report(), "models": []}
    report["tasks"] = report["tasks"][:1]
    first = publish(report, artifacts, None)
    second = publish(report, artifacts, None)
    assert first.run != second.run and first.run.with_suffix(".html").is_file()
    latest = json.loads(second.report.read_text())
    assert latest["run"]["id"] == second.run.stem and second.html.read_text().startswith(
        "<!DOCTYPE"
    )
    assert main(["report", "--artifacts", str(artifacts)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing[1:]] == [first.run.stem, second.run.stem]
    first.run.with_suffix(".html").unlink()
    assert main(["report", first.run.stem, "--html", "--artifacts", str(artifacts)]) == 0
    assert capsys.readouterr().out.strip() == str(first.run.with_suffix(".html"))
    assert 'data-chart="curve"' in first.run.with_suffix(".html").read_text()
    assert main(["report", "nope", "--artifacts", str(artifacts)]) == 2
    assert "is neither a stored run nor a file" in capsys.readouterr().err


def test_peers_come_from_bench_results_beside_the_artifacts(tmp_path: Path) -> None:
    model = {k: v for k, v in model_record().items() if k != "peers"}
    assert with_peers([model], tmp_path / "wasm-tune-artifacts") == [model]
    bench = {"resnet18_ms": {"ours": {"median": 178.5}, "tfjs": {"median": 124.5, "q1": 120.0,
             "q3": 130.0, "n": 9}, "ort": None}}  # fmt: skip
    (tmp_path / "bench-results.json").write_text(json.dumps(bench))
    (record,) = with_peers([model], tmp_path / "wasm-tune-artifacts")
    assert record["peers"]["ms"] == {"tfjs": bench["resnet18_ms"]["tfjs"]}
    assert record["peers"]["source"] == str(tmp_path / "bench-results.json")


def test_tasks_dir_is_the_common_parent_of_the_items() -> None:
    root = Path("/r")
    assert tasks_dir(root, ["tasks/a/test_x.py::t", "tasks/test_y.py::t"]) == root / "tasks"
    assert tasks_dir(root, ["test_y.py::t[chromium]"]) == root and tasks_dir(root, []) is None
