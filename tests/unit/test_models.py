"""The pure parts of the model support: ResNet-18's graph and weights, task naming."""

import re
from typing import Any

import numpy as np
import pytest

from pytest_wasm_tune.models import build_resnet18, resnet18_for_compile
from pytest_wasm_tune.models.tasks import (
    ModelTask,
    op_names,
    readable_name,
    trial_scales,
    unique_names,
)

READABLE = re.compile(r"^[a-z0-9_]+$")


def _shape(ty: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in ty.shape)


@pytest.fixture(scope="module")
def resnet() -> tuple[Any, dict[str, np.ndarray]]:
    return build_resnet18(seed=0)


def test_resnet18_has_torchvision_weights_and_shapes(
    resnet: tuple[Any, dict[str, np.ndarray]],
) -> None:
    mod, params = resnet
    main = mod["main"]
    assert _shape(main.params[0].ty) == (1, 3, 224, 224)
    assert _shape(main.ret_ty) == (1, 1000)
    assert [p.name for p in main.params[1:]] == list(params)
    assert len(params) == 20 + 4 * 20 + 2, "20 convs, 20 batch norms, fc weight + bias"
    assert params["conv1.weight"].shape == (64, 3, 7, 7)
    assert params["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert params["layer4.1.conv2.weight"].shape == (512, 512, 3, 3)
    assert params["fc.weight"].shape == (1000, 512)
    assert "layer1.0.downsample.0.weight" not in params
    weights = sum(v.size for k, v in params.items() if "running" not in k)
    assert weights == 11_689_512, "torchvision's resnet18 parameter count"
    assert all(v.dtype == np.float32 for v in params.values())


def test_resnet18_weights_are_seeded() -> None:
    _, a = build_resnet18(seed=3, image_size=32)
    _, b = build_resnet18(seed=3, image_size=32)
    _, c = build_resnet18(seed=4, image_size=32)
    np.testing.assert_array_equal(a["layer3.1.conv1.weight"], b["layer3.1.conv1.weight"])
    assert not np.array_equal(a["layer3.1.conv1.weight"], c["layer3.1.conv1.weight"])


def test_bound_model_takes_only_the_image() -> None:
    main = resnet18_for_compile(image_size=32)["main"]
    assert [_shape(p.ty) for p in main.params] == [(1, 3, 32, 32)]
    assert _shape(main.ret_ty) == (1, 1000)


@pytest.mark.parametrize(
    ("ms_name", "ops"),
    [
        ("fused_conv2d_subtract_divide_multiply_add1_relu", ["conv2d", "bn", "relu"]),
        (
            "fused_conv2d3_subtract2_divide2_multiply2_add5_add6_relu2",
            ["conv2d", "bn", "add", "relu"],
        ),
        ("fused_conv2d10_subtract4_divide4_multiply4_add11", ["conv2d", "bn"]),
        ("fused_matmul_add13", ["matmul", "add"]),
        ("max_pool2d", ["max", "pool2d"]),
        ("mean", ["mean"]),
    ],
)
def test_op_names(ms_name: str, ops: list[str]) -> None:
    assert op_names(ms_name) == ops


def test_readable_names_carry_the_shapes() -> None:
    conv = [(1, 64, 56, 56), (128, 64, 3, 3), (1, 128, 1, 1), (1, 128, 28, 28)]
    assert (
        readable_name("fused_conv2d2_subtract2_divide2_multiply2_add5_relu2", conv)
        == "conv2d_bn_relu_56x56_64to128_3x3s2"
    )
    assert readable_name("fused_matmul_add13", [(1, 512), (512, 1000), (1000,), (1, 1000)]) == (
        "matmul_add_512to1000"
    )
    assert readable_name("max_pool2d", [(1, 64, 112, 112), (1, 64, 56, 56)]) == (
        "max_pool2d_64x112x112"
    )
    assert readable_name("mean", [(1, 512, 7, 7), (1, 512)]) == "mean_512x7x7"


def test_readable_names_read_channels_last_convs_like_nchw_ones() -> None:
    nhwc = [(1, 56, 56, 64), (3, 3, 64, 128), (1, 1, 1, 128), (1, 28, 28, 128)]
    assert readable_name("fused_conv2d2_subtract2_divide2_multiply2_add5_relu2", nhwc) == (
        "conv2d_bn_relu_56x56_64to128_3x3s2"
    )
    stem = [(1, 224, 224, 3), (7, 7, 3, 64), (1, 112, 112, 64)]
    assert readable_name("fused_conv2d_relu", stem) == "conv2d_relu_224x224_3to64_7x7s2"


def test_resnet18_convs_are_tasks_in_channels_last_layout() -> None:
    """Output channels innermost in both the output and the (HWIO) weight of every conv."""
    from pytest_wasm_tune.kernels import wasm_target
    from pytest_wasm_tune.models.tasks import arg_shapes, extract_tasks

    tasks = extract_tasks(resnet18_for_compile(image_size=32), wasm_target())
    convs = [t for t in tasks if t.name.startswith("conv2d")]
    assert len(convs) == 15
    for task in convs:
        data, weight, *_, out = arg_shapes(task.mod)
        assert data[3] == weight[2] and weight[3] == out[3], task.name
        assert "conv2d_nhwc" in task.mod.script(), task.name


def test_unique_names_suffix_repeats_only() -> None:
    assert unique_names(["a", "b", "a", "a", "a_v2"]) == ["a", "b", "a_v2", "a_v3", "a_v2_v2"]


def test_extracted_resnet18_tasks_are_unique_and_readable() -> None:
    from pytest_wasm_tune.kernels import wasm_target
    from pytest_wasm_tune.models.tasks import extract_tasks

    # 32x32 input: the same 19 kernels as at 224x224, with smaller spatial sizes.
    tasks = extract_tasks(resnet18_for_compile(image_size=32), wasm_target())
    names = [t.name for t in tasks]
    assert len(set(names)) == len(names) == 19
    assert all(READABLE.match(n) for n in names)
    assert names[:2] == ["transpose_3x32x32", "conv2d_bn_relu_32x32_3to64_7x7s2"], (
        "tasks follow the model's call order: the NCHW input goes channels-last first"
    )
    assert names[-1] == "matmul_add_512to1000"
    assert sum(t.weight for t in tasks if t.name.startswith("conv2d")) == 20
    for task in tasks:
        assert [gv.name_hint for gv in task.mod.get_global_vars()] == ["main"]
        assert task.weight >= 1 and task.flops >= 0


def _task(name: str, flops: float, weight: int = 1) -> ModelTask:
    return ModelTask(name, None, weight, flops, name)


def test_trial_scales_share_half_equally_and_half_by_flops() -> None:
    tasks = [_task("big", 300, weight=2), _task("mid", 300), _task("tiny", 0)]
    scales = trial_scales(tasks)
    # FLOPs shares 2/3, 1/3, 0 of 900: half of each task's budget, plus half of 3 × its share
    assert scales == pytest.approx({"big": 1.5, "mid": 1.0, "tiny": 0.5})
    assert sum(scales.values()) == pytest.approx(len(tasks)), "the model's budget is kept"
    assert trial_scales(tasks, flops_part=0) == {"big": 1.0, "mid": 1.0, "tiny": 1.0}
    assert trial_scales([_task("a", 0), _task("b", 0)]) == {"a": 1.0, "b": 1.0}
    with pytest.raises(ValueError, match="flops_part"):
        trial_scales(tasks, flops_part=1.5)


def _double(n: int = 8) -> Any:
    import tvm
    from tvm import te

    a = te.placeholder((n,), name="A")
    b = te.compute((n,), lambda i: a[i] * 2.0, name="B")
    return tvm.IRModule({"main": te.create_prim_func([a, b])})


def _tuned_database(directory: Any) -> tuple[Any, list[str]]:
    """A task database of `_double()` with three records, 1, 2 and 3 ms at search time (their
    traces, in that order), and one record of another workload, `_double(16)`."""
    import tvm
    from tvm.s_tir import meta_schedule as ms

    from pytest_wasm_tune.artifacts.database import database_for_tuning

    mod, target, traces = _double(), tvm.target.Target("llvm"), []
    with database_for_tuning(directory) as database:
        workload = database.commit_workload(mod)
        args = ms.arg_info.ArgInfo.from_prim_func(mod["main"])
        for factors, secs in (([2, 4], 1e-3), ([4, 2], 2e-3), (None, 3e-3)):
            sch = tvm.s_tir.Schedule(mod)
            if factors:
                sch.split(sch.get_loops(sch.get_sblock("B"))[0], factors)
            record = ms.database.TuningRecord(sch.trace, workload, [secs], target, args)
            database.commit_tuning_record(record)
            traces.append(str(sch.trace))
        other, sch = _double(16), tvm.s_tir.Schedule(_double(16))
        sch.get_sblock("B")  # MetaSchedule's lookups skip a record with an empty trace
        database.commit_tuning_record(
            ms.database.TuningRecord(
                sch.trace,
                database.commit_workload(other),
                [5e-3],
                target,
                ms.arg_info.ArgInfo.from_prim_func(other["main"]),
            )
        )
    return target, traces


def _choose(directory: Any, chosen: str) -> None:
    from pytest_wasm_tune.artifacts.database import workload_key
    from pytest_wasm_tune.artifacts.final_choice import FinalChoice, write_choice

    write_choice(directory, FinalChoice(workload_key(_double()), chosen, "x", 3e-3, 2e-3, "now"))


def _applied(database: Any, target: Any) -> tuple[Any, tuple[str, ...]]:
    """The record the model compile would apply to `_double()`, and the functions it reports."""
    from pytest_wasm_tune.models.compile import tuned_functions

    record = database.query_tuning_record(_double(), target, "main")
    return record, tuned_functions(_double(), database, target)


def test_the_model_applies_the_finally_chosen_record(tmp_path: Any) -> None:
    from pytest_wasm_tune.models.compile import load_database

    target, traces = _tuned_database(tmp_path)
    _choose(tmp_path, traces[1])  # the runner-up won the final re-measurement
    record, functions = _applied(load_database([tmp_path]), target)
    assert str(record.trace) == traces[1] and float(record.run_secs[0]) == pytest.approx(2e-3)
    assert functions == ("main",)


def test_a_kept_default_leaves_its_workload_without_a_record(tmp_path: Any) -> None:
    from pytest_wasm_tune.artifacts.final_choice import DEFAULT
    from pytest_wasm_tune.models.compile import load_database

    target, _ = _tuned_database(tmp_path)
    _choose(tmp_path, DEFAULT)
    database = load_database([tmp_path])
    assert _applied(database, target) == (None, ())
    other = database.query_tuning_record(_double(16), target, "main")  # not the choice's
    assert float(other.run_secs[0]) == pytest.approx(5e-3)


def test_without_a_choice_the_fastest_search_time_record_applies(tmp_path: Any) -> None:
    from pytest_wasm_tune.models.compile import load_database

    target, traces = _tuned_database(tmp_path)
    record, functions = _applied(load_database([tmp_path]), target)
    assert str(record.trace) == traces[0] and functions == ("main",)


@pytest.mark.parametrize(
    ("write", "warning"),
    [
        (lambda d: _choose(d, "a trace no record has"), "does not hold"),
        (lambda d: (d / "final_choice.json").write_text("{oops"), "cannot be read"),
    ],
    ids=["unknown-trace", "garbled"],
)
def test_a_choice_that_cannot_be_applied_falls_back_with_a_warning(
    tmp_path: Any, write: Any, warning: str
) -> None:
    from pytest_wasm_tune.artifacts.database import DatabaseWarning
    from pytest_wasm_tune.models.compile import load_database

    target, traces = _tuned_database(tmp_path)
    write(tmp_path)
    with pytest.warns(DatabaseWarning, match=warning):
        database = load_database([tmp_path])
    assert str(_applied(database, target)[0].trace) == traces[0]
