"""Sibling seeding (siblings.py): tile splits refitted to other extents, traces replayed on a
sibling workload, and seeds picked from the databases beside a task's own."""

from pathlib import Path

import numpy as np
import pytest

from pytest_wasm_tune.artifacts.database import database_dir
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.siblings import fit_tile, replay, sibling_seeds

TARGET = {"kind": "llvm", "num-cores": 1}


@pytest.mark.parametrize(
    ("factors", "extent", "expected"),
    [
        ([2, 1, 16, 8], 256, [2, 1, 16, 8]),  # the same extent: unchanged
        ([2, 1, 16, 8], 512, [4, 1, 16, 8]),  # the outermost takes what is left
        ([2, 1, 16, 8], 64, [1, 1, 8, 8]),  # an inner factor shrinks to what divides
        ([7, 1, 2, 1], 7, [7, 1, 1, 1]),  # 2 does not divide 7
        ([1, 3], 1, [1, 1]),
        ([5], 12, [12]),
    ],
)
def test_fit_tile_keeps_inner_factors_that_divide(
    factors: list[int], extent: int, expected: list[int]
) -> None:
    fitted = fit_tile(factors, extent)
    assert fitted == expected
    assert int(np.prod(fitted)) == extent


def test_fit_tile_needs_a_factor() -> None:
    with pytest.raises(ValueError, match="at least one factor"):
        fit_tile([], 8)


def _module(func):
    import tvm

    return tvm.IRModule({"main": func})


def _elementwise(n: int):
    from tvm import te

    a = te.placeholder((n,), name="A")
    return _module(te.create_prim_func([a, te.compute((n,), lambda i: a[i] + 1.0, name="B")]))


def _tuned_traces(mod, count: int) -> list:
    """`count` schedules of `mod` sampled from MetaSchedule's design space, postprocessed."""
    import tvm
    from tvm.s_tir import meta_schedule as ms

    context = ms.TuneContext(
        mod=mod,
        target=tvm.target.Target(TARGET),
        space_generator="post-order-apply",
        task_name="t",
        rand_state=7,
    )
    (space, *_) = context.generate_design_space()
    traces = []
    for seed in range(1, count + 1):  # each replay samples its own decisions (seeded)
        sch = tvm.s_tir.Schedule(mod, seed=seed)
        space.trace.apply_to_schedule(sch, True, decision_provider=lambda *_: None)
        traces.append(sch.trace)
    return traces


def _postprocs(mod) -> list:
    import tvm
    from tvm.s_tir import meta_schedule as ms

    context = ms.TuneContext(
        mod=mod, target=tvm.target.Target(TARGET), space_generator="post-order-apply"
    )
    return list(context.space_generator.postprocs)


def test_a_matmul_trace_replays_on_another_size_and_computes_it() -> None:
    import tvm

    big, small = _module(matmul_prim_func(64)), _module(matmul_prim_func(24))
    (trace,) = _tuned_traces(big, 1)
    replayed = replay(trace, small, _postprocs(small))
    assert replayed is not None
    sch, distance = replayed
    # i, j and k moved from 64 to 24: log2(64/24) each, over every tiled loop
    assert distance == pytest.approx(3 * np.log2(64 / 24))
    tiles = [d for inst, d in sch.trace.decisions.items() if inst.kind.name == "SamplePerfectTile"]
    assert tiles and all(int(np.prod([int(f) for f in d])) == 24 for d in tiles)
    built = tvm.compile(sch.mod, target=TARGET)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((24, 24), dtype="float32") for _ in range(2))
    c = tvm.runtime.tensor(np.zeros((24, 24), dtype="float32"))
    built(tvm.runtime.tensor(a), tvm.runtime.tensor(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)


def test_another_operators_trace_does_not_replay() -> None:
    (trace,) = _tuned_traces(_module(matmul_prim_func(32)), 1)
    other = _elementwise(64)
    assert replay(trace, other, _postprocs(other)) is None


def _database(root: Path, name: str, mod, secs: list[float]) -> Path:
    import tvm
    from tvm.s_tir import meta_schedule as ms

    directory = database_dir(root, name, mod, "chromium")
    directory.mkdir(parents=True)
    database = ms.database.JSONDatabase(
        str(directory / "database_workload.json"), str(directory / "database_tuning_record.json")
    )
    workload = database.commit_workload(mod)
    args = ms.arg_info.ArgInfo.from_prim_func(mod["main"])
    for trace, sec in zip(_tuned_traces(mod, len(secs)), secs, strict=True):
        record = ms.database.TuningRecord(trace, workload, [sec], tvm.target.Target(TARGET), args)
        database.commit_tuning_record(record)
    return directory


def test_seeds_come_from_the_siblings_fastest_records_nearest_first(tmp_path: Path) -> None:
    import tvm

    own = _module(matmul_prim_func(48))
    own_dir = database_dir(tmp_path, "mm48", own, "chromium")
    near = _database(tmp_path, "mm64", _module(matmul_prim_func(64)), [3e-3, 1e-3, 2e-3])
    far = _database(tmp_path, "mm256", _module(matmul_prim_func(256)), [5e-3])
    _database(tmp_path, "add", _elementwise(64), [1e-6])  # another operator: never a seed
    _database(tmp_path, "mm48_again", own, [1e-6])  # the task's own workload: not a sibling

    seeds = sibling_seeds(own, tvm.target.Target(TARGET), own_dir, count=3)

    assert [(seed.source, seed.rank) for seed in seeds] == [(near, 0), (far, 0), (near, 1)]
    assert [seed.source_median_s for seed in seeds] == [1e-3, 5e-3, 2e-3]
    assert seeds[0].distance < seeds[1].distance
    assert len({seed.key for seed in seeds}) == 3
    assert all(seed.candidate.sch.mod["main"].params for seed in seeds)

    rest = sibling_seeds(
        own, tvm.target.Target(TARGET), own_dir, count=8, exclude=frozenset({seeds[0].key})
    )
    assert seeds[0].key not in {seed.key for seed in rest} and len(rest) == 3


def test_an_unchanged_database_is_read_once_and_a_changed_one_again(tmp_path: Path) -> None:
    from pytest_wasm_tune import warm_start

    directory = _database(tmp_path, "m", _module(matmul_prim_func(32)), [2e-3, 1e-3])
    first = warm_start._read_copy(directory)
    assert warm_start._read_copy(directory) is first, "the same files: not parsed again"
    assert [m for m, *_ in _medians(directory)] == [1e-3, 2e-3]
    records = directory / "database_tuning_record.json"
    lines = records.read_text().splitlines()
    records.write_text("\n".join(lines[:1]) + "\n")  # another process rewrote it
    assert warm_start._read_copy(directory) is not first
    assert len(list(_medians(directory))) == 1


def _medians(directory: Path) -> list[tuple[float, str]]:
    from pytest_wasm_tune.warm_start import measured_records

    return [(seed.source_median_s, seed.source.name) for seed in measured_records(directory, None)]
