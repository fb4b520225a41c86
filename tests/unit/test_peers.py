"""bench/peers.py: operator names and flops, the ResNet-18 topology, batch-norm folding, the ONNX
models (when `onnx` is installed: extra `bench`) and the conversion of samples to figures."""

import os
from pathlib import Path

import numpy as np
import pytest

from .bench_modules import load_bench_module

peers = load_bench_module("peers")


def _conv_nchw(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, pad: int) -> np.ndarray:
    """Stride-1 convolution by loops over the kernel (reference for small shapes)."""
    _, _, h, width = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = h + 2 * pad - k + 1, width + 2 * pad - k + 1
    y = np.zeros((1, w.shape[0], out_h, out_w))
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i : i + out_h, j : j + out_w]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def test_kernel_names_map_to_operators_and_flops() -> None:
    matmul = peers.peer_op("matmul512")
    assert (matmul.kind, matmul.flops, matmul.ort_input) == ("matmul", 2 * 512**3, (512, 512))
    conv = peers.peer_op("conv3x3_64x56")
    assert (conv.kind, dict(conv.sizes)) == ("conv3x3", {"c": 64, "s": 56})
    assert conv.flops == 2 * 64 * 64 * 9 * 56 * 56 and conv.ort_input == (1, 64, 56, 56)
    assert peers.peer_op("resnet18").flops == peers.resnet18_flops()
    assert peers.peer_op("softmax1000") is None
    spec = conv.page_spec(seed=7)
    assert spec["ortModel"] == "/models/conv3x3_64x56.onnx" and spec["c"] == 64
    assert spec["seed"] == 7 and spec["ortInput"] == [1, 64, 56, 56]


def test_resnet18_topology_is_torchvisions() -> None:
    convs = peers.resnet18_convs()
    assert len(convs) == 20  # stem + 8 blocks × 2 + 3 downsamples
    assert [c.name for c in convs if c.kernel == 1] == [
        "layer2.0.downsample",
        "layer3.0.downsample",
        "layer4.0.downsample",
    ]
    assert (convs[0].out_size, convs[-1].out_size, convs[-1].cout) == (112, 7, 512)
    # torchvision's figure: 1.814 G multiply-adds
    assert peers.resnet18_flops() / 2 == pytest.approx(1.8141e9, rel=1e-4)
    blocks = peers.resnet18_blocks()
    assert [b.a.stride for b in blocks] == [1, 1, 2, 1, 2, 1, 2, 1]
    assert [b.a.size for b in blocks] == [56, 56, 56, 28, 28, 14, 14, 7]


def test_folded_batch_norm_equals_conv_then_batch_norm() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    gamma, beta = rng.uniform(0.5, 1, 4), rng.uniform(-1, 1, 4)
    mean, var = rng.uniform(-1, 1, 4), rng.uniform(0.5, 2, 4)
    conv = _conv_nchw(x, w, None, pad=1)
    shape = (1, -1, 1, 1)
    expected = (conv - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + peers.BN_EPS)
    expected = expected * gamma.reshape(shape) + beta.reshape(shape)
    folded_w, folded_b = peers.fold_batch_norm(w, gamma, beta, mean, var)
    assert folded_w.dtype == folded_b.dtype == np.float32
    np.testing.assert_allclose(_conv_nchw(x, folded_w, folded_b, pad=1), expected, atol=1e-5)


def test_op_figures_are_median_quartiles_and_gflops_of_the_median() -> None:
    figures = peers.op_figures([0.004, 0.002, 0.003, 0.005, 0.001], flops=6_000_000)
    assert figures["median_s"] == 0.003 and (figures["q1_s"], figures["q3_s"]) == (0.002, 0.004)
    assert figures["n"] == 5 and figures["gflops"] == 2.0
    assert figures["gflops_iqr"] == [1.5, 3.0]
    assert (figures["min_s"], figures["gflops_best"]) == (0.001, 6.0)


def test_ms_figures_convert_seconds() -> None:
    assert peers.ms_figures([0.080, 0.078, 0.1, 0.079]) == {
        "median": 79.5,
        "q1": 78.75,
        "q3": 85.0,
        "n": 4,
        "min": 78.0,
    }


def test_the_ceiling_is_the_best_chain_counts_median() -> None:
    ceiling, details = peers.ceiling_figures(
        {4: [20.0, 21.0, 19.0], 12: [60.0, 64.0, 62.0], 16: [70.0, 40.0, 41.0]}
    )
    assert ceiling == 62.0 and details["best_chains"] == 12
    assert details["chains"]["16"]["median_gflops"] == 41.0
    assert details["chains"]["16"]["max_gflops"] == 70.0
    assert list(details["chains"]) == ["4", "12", "16"]
    with pytest.raises(ValueError, match="no ceiling samples"):
        peers.ceiling_figures({})


def test_outputs_are_checked_against_each_peers_layout() -> None:
    ops = [peers.peer_op("conv3x3_64x56"), peers.peer_op("resnet18")]
    good = {"shape": [1, 56, 56, 64], "finite": True}
    peers._check_output("tfjs_wasm", "conv3x3_64x56", good, ops)  # NHWC
    peers._check_output("ort_web", "conv3x3_64x56", {**good, "shape": [1, 64, 56, 56]}, ops)
    peers._check_output("ort_web", "resnet18", {"shape": [1, 1000], "finite": True}, ops)
    with pytest.raises(peers.PeerError, match="expected"):
        peers._check_output("ort_web", "resnet18", {"shape": [1, 1000], "finite": False}, ops)


def test_page_assets_name_every_file_and_report_missing_npm_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peak = tmp_path / "peak.wasm"
    assets_of = {"resnet18": tmp_path / "resnet18.onnx"}
    monkeypatch.setattr(peers, "NODE_MODULES", tmp_path / "node_modules")
    with pytest.raises(peers.PeerError, match="npm ci"):
        peers.page_assets(peak, assets_of)
    for relative in peers.RUNTIME_ASSETS.values():
        (tmp_path / "node_modules" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "node_modules" / relative).write_bytes(b"")
    assets = peers.page_assets(peak, assets_of)
    assert assets["/"] == peers.PAGE_DIR / "index.html"
    assert assets["/peak.wasm"] == peak and assets["/models/resnet18.onnx"] == assets_of["resnet18"]
    assert all(path.is_file() for url, path in assets.items() if url.endswith(".js"))


def test_measure_cpu_load_separates_our_browser_from_everything_else() -> None:
    stat = (
        "cpu  900 0 300 5000 10 0 0 0 0 0\n"
        "cpu0 100 0 100 4000 10 0 0 0 0 0\n"
        "cpu1 800 0 200 1000 0 0 0 50 0 0\n"  # busy = user + system + steal
        "intr 12345\n"
    )
    hz = os.sysconf("SC_CLK_TCK")
    assert peers.cpu_busy_s(frozenset({1}), stat) == pytest.approx(1050 / hz)
    assert peers.cpu_busy_s(frozenset({0, 1}), stat) == pytest.approx(1250 / hz)
    load = peers.contention(frozenset({1}), wall_s=10.0, busy_s=9.0, browser_s=6.0)
    assert load == {"cpus": [1], "browser_busy_pct": 60.0, "others_busy_pct": 30.0}
    assert peers.contention(frozenset({1}), 10.0, 5.0, 6.0)["others_busy_pct"] == 0.0
    both = peers.contention(frozenset({1}), 10.0, 9.0, 6.0, frozenset({0}), 2.5)
    assert (both["other_cpus"], both["other_cpus_busy_pct"]) == ([0], 25.0)


# ---- ONNX models (need the `bench` extra) ----------------------------------------------------


@pytest.fixture
def onnx():
    return pytest.importorskip("onnx")


def test_resnet18_onnx_model_is_valid_with_a_1x1000_output(onnx) -> None:
    model = peers.resnet18_model(seed=0)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert dims == [1, 1000]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Conv") == 20 and ops.count("Add") == 8 and ops.count("MaxPool") == 1
    assert "BatchNormalization" not in ops  # folded into the convs
    assert model.ir_version == peers.ONNX_IR_VERSION
    assert [o.version for o in model.opset_import] == [peers.ONNX_OPSET]
    weights = sum(np.prod(t.dims) for t in model.graph.initializer)
    assert weights == pytest.approx(11.69e6, rel=1e-3)  # torchvision: 11,689,512 parameters


def test_single_op_models_compute_their_operator(onnx) -> None:
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(2)
    a = rng.standard_normal((8, 8)).astype(np.float32)
    model = peers.matmul_model(8, seed=3)
    b = onnx.numpy_helper.to_array(model.graph.initializer[0])
    (y,) = ReferenceEvaluator(model).run(None, {"A": a})
    np.testing.assert_allclose(y, a @ b, rtol=1e-5, atol=1e-5)

    x = rng.standard_normal((1, 4, 5, 5)).astype(np.float32)
    model = peers.conv3x3_model(4, 5, seed=3)
    w = onnx.numpy_helper.to_array(model.graph.initializer[0])
    (y,) = ReferenceEvaluator(model).run(None, {"X": x})
    assert y.shape == (1, 4, 5, 5)
    np.testing.assert_allclose(y, _conv_nchw(x, w, None, pad=1), rtol=1e-4, atol=1e-4)
