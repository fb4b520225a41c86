"""bench/agree.py: whether two bench runs agree within their spread."""

import json
from pathlib import Path

import pytest

from .bench_modules import load_bench_module

agree = load_bench_module("agree")


def _run(matmul: tuple[float, list[float]], resnet: tuple[float, list[float]]) -> dict:
    ratio, interval = matmul
    return {
        "kernels": {
            "matmul512": {
                "peer_ratio_simd128": ratio,
                "peer_ratio_simd128_replicates": [1.0, 2.0],  # not the spread: the interval is
                "peer_ratio_simd128_rerun_interval": interval,
            },
            "unpaired": {"simd128": {}},
        },
        "peer_ratio_resnet18": resnet[0],
        "peer_ratio_resnet18_iqr": [0.0, 9.0],
        "peer_ratio_resnet18_rerun_interval": resnet[1],
    }


def test_every_figure_is_held_against_its_rerun_interval() -> None:
    found = agree.figures(_run((1.25, [1.10, 1.31]), (1.2, [1.17, 1.26])))
    assert found == {
        "matmul512": agree.Figure(1.25, 1.10, 1.31),
        agree.RESNET18: agree.Figure(1.2, 1.17, 1.26),
    }


def test_runs_written_before_the_intervals_have_no_figures() -> None:
    before = _run((1.25, []), (1.2, []))
    assert agree.figures(before) == {}


@pytest.mark.parametrize(
    ("second", "verdict"),
    [
        (agree.Figure(1.30, 1.20, 1.40), "both ways"),
        (agree.Figure(1.30, 1.28, 1.40), "one way"),  # the first's 1.25 is below 1.28
        (agree.Figure(1.45, 1.40, 1.50), "no"),
    ],
)
def test_runs_agree_when_each_ratio_lies_in_the_others_spread(second, verdict) -> None:
    assert agree.agreement(agree.Figure(1.25, 1.10, 1.31), second) == verdict


def test_the_table_marks_the_target_and_says_whether_all_agree() -> None:
    first = {"matmul512": agree.Figure(1.25, 1.10, 1.31), "only_here": agree.Figure(1, 1, 1)}
    rows, all_agree = agree.table(first, {"matmul512": agree.Figure(1.12, 1.08, 1.20)})
    assert rows[2] == "| matmul512 | **1.25×** (1.10–1.31) | 1.12× (1.08–1.20) | one way |"
    assert len(rows) == 3 and not all_agree


def test_the_exit_status_says_whether_the_runs_agree(tmp_path: Path, capsys) -> None:
    paths = []
    for index, run in enumerate(
        [_run((1.25, [1.1, 1.3]), (1.2, [1.1, 1.3])), _run((1.2, [1.15, 1.28]), (1.25, [1.2, 1.3]))]
    ):
        paths.append(tmp_path / f"run{index}.json")
        paths[-1].write_text(json.dumps(run))
    assert agree.main([str(p) for p in paths]) == 0
    assert "the runs agree" in capsys.readouterr().out
    paths[1].write_text(json.dumps(_run((1.5, [1.45, 1.6]), (1.25, [1.2, 1.3]))))
    assert agree.main([str(p) for p in paths]) == 1
    paths[1].write_text(json.dumps({"kernels": {}}))
    assert agree.main([str(p) for p in paths]) == 2
