"""Peers timed beside our kernels: TensorFlow.js (wasm backend) and ONNX Runtime Web (wasm EP).

    import peers
    figures = peers.bench_peers(["matmul512", "conv3x3_64x56"], rounds=15)

Both peers run in one headless Chromium page (web/peers/) with 1 thread and SIMD128, in the
conditions of our own kernels: the project's Chromium binary, driver and flags (V8 without
Liftoff) and the browser pinned to the measure CPU of `CpuPlan`. The page also times
web/peers/peak.c (built with emcc here), the wasm SIMD128 ceiling of this machine.

Timing: each op is warmed up until its per-call time stops improving, then `rounds` samples,
each a batch of back-to-back calls lasting >= 40 ms (per-call time = batch time / calls, by
`performance.now()` in a cross-origin isolated page: 5 µs steps). TF.js reads its output with
`dataSync()` inside the timed region; ORT times `session.run(feeds)`. Rounds interleave every
op and peer (round r: peak kernels, then each op by both peers, their order alternating), so
host noise hits all alike. Figures are medians and quartiles over the rounds.

ORT's models (the single ops and ResNet-18) are ONNX files built here with the `onnx` package
(extra `bench`) into a temporary directory; TF.js builds the same operators from tf ops in the
page. ResNet-18 is torchvision's topology with batch norm folded into each conv, random weights.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from paired import OpenOurs, PairedPlan, Samplers, alternate, labels_of_ours, paired_figures

from pytest_wasm_tune import defaults
from pytest_wasm_tune.browsers.base import quit_driver
from pytest_wasm_tune.browsers.chromium import check_chromium
from pytest_wasm_tune.browsers.sandbox import sandbox_flags
from pytest_wasm_tune.measure.cpus import CpuPlan
from pytest_wasm_tune.measure.host_lock import host_measure_lock
from pytest_wasm_tune.services.page_server import PageServer
from pytest_wasm_tune.stats import Spread

if TYPE_CHECKING:
    import onnx

ROOT = Path(__file__).resolve().parent.parent
PAGE_DIR = ROOT / "web" / "peers"
NODE_MODULES = ROOT / "web" / "node_modules"
PEERS = ("tfjs_wasm", "ort_web")
RESNET18 = "resnet18"
MIN_SAMPLE_MS = 40.0
WARMUP_BATCH_MS = 10.0
ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # what every ONNX Runtime release since 1.10 loads
BN_EPS = 1e-5

# URL path → file under web/node_modules: only these runtime files are served.
TFJS_WASM = "@tensorflow/tfjs-backend-wasm/dist"
RUNTIME_ASSETS = {
    "/tfjs/tf-core.min.js": "@tensorflow/tfjs-core/dist/tf-core.min.js",
    "/tfjs/tf-backend-wasm.min.js": f"{TFJS_WASM}/tf-backend-wasm.min.js",
    "/tfjs/tfjs-backend-wasm-simd.wasm": f"{TFJS_WASM}/tfjs-backend-wasm-simd.wasm",
    "/ort/ort.wasm.min.js": "onnxruntime-web/dist/ort.wasm.min.js",
    "/ort/ort-wasm-simd-threaded.mjs": "onnxruntime-web/dist/ort-wasm-simd-threaded.mjs",
    "/ort/ort-wasm-simd-threaded.wasm": "onnxruntime-web/dist/ort-wasm-simd-threaded.wasm",
}
PAGE_FILES = ("index.html", "peers_page.js", "peers_core.js")

PAGE_LOAD_TIMEOUT_S = 30.0
INIT_TIMEOUT_S = 300.0
WARMUP_TIMEOUT_S = 120.0
SAMPLE_TIMEOUT_S = 60.0
DEFAULT_PAIRED = PairedPlan()
EMCC_TIMEOUT_S = 120.0


class PeerError(RuntimeError):
    """The peers could not be measured (build, browser or page failure)."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] peers: {message}", file=sys.stderr, flush=True)


# ---- operators -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    """One convolution: square `kernel`, input `size` × `size`."""

    name: str
    cin: int
    cout: int
    kernel: int
    stride: int
    pad: int
    size: int

    @property
    def out_size(self) -> int:
        return (self.size + 2 * self.pad - self.kernel) // self.stride + 1

    @property
    def flops(self) -> int:
        return 2 * self.cin * self.cout * self.kernel**2 * self.out_size**2


@dataclass(frozen=True)
class Block:
    """A ResNet BasicBlock: relu(b(relu(a(x))) + shortcut), shortcut a 1×1 conv or identity."""

    name: str
    a: Conv
    b: Conv
    downsample: Conv | None


RESNET18_STEM = Conv("conv1", 3, 64, 7, 2, 3, 224)
RESNET18_FEATURES = 512
RESNET18_CLASSES = 1000


def resnet18_blocks() -> list[Block]:
    """torchvision's ResNet-18 blocks for a 224×224 input (after the stem and its max pool)."""
    blocks: list[Block] = []
    cin, size = 64, (RESNET18_STEM.out_size + 2 - 3) // 2 + 1  # 3×3/2 max pool, pad 1
    for stage, cout in enumerate((64, 128, 256, 512)):
        for index in range(2):
            stride = 2 if stage > 0 and index == 0 else 1
            name = f"layer{stage + 1}.{index}"
            a = Conv(f"{name}.conv1", cin, cout, 3, stride, 1, size)
            b = Conv(f"{name}.conv2", cout, cout, 3, 1, 1, a.out_size)
            down = None
            if stride != 1 or cin != cout:
                down = Conv(f"{name}.downsample", cin, cout, 1, stride, 0, size)
            blocks.append(Block(name, a, b, down))
            cin, size = cout, a.out_size
    return blocks


def resnet18_convs() -> list[Conv]:
    convs = [RESNET18_STEM]
    for block in resnet18_blocks():
        convs += [block.a, block.b, *([block.downsample] if block.downsample else [])]
    return convs


def resnet18_flops() -> int:
    """Convs and the classifier (pooling, adds and ReLUs left out): 3.63 GFLOP."""
    fc = 2 * RESNET18_FEATURES * RESNET18_CLASSES
    return sum(conv.flops for conv in resnet18_convs()) + fc


@dataclass(frozen=True)
class PeerOp:
    """An operator both peers run: its kind and sizes, flops and ORT input shape (NCHW)."""

    name: str
    kind: str  # "matmul" | "conv3x3" | "resnet18"
    sizes: Mapping[str, int] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        if self.kind == "matmul":
            return 2 * self.sizes["n"] ** 3
        if self.kind == "conv3x3":
            c, s = self.sizes["c"], self.sizes["s"]
            return 2 * c * c * 9 * s * s
        return resnet18_flops()

    @property
    def ort_input(self) -> tuple[int, ...]:
        if self.kind == "matmul":
            return (self.sizes["n"], self.sizes["n"])
        if self.kind == "conv3x3":
            return (1, self.sizes["c"], self.sizes["s"], self.sizes["s"])
        return (1, 3, 224, 224)

    def page_spec(self, seed: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            **self.sizes,
            "flops": self.flops,
            "seed": seed,
            "ortModel": f"/models/{self.name}.onnx",
            "ortInput": list(self.ort_input),
        }


def peer_op(name: str) -> PeerOp | None:
    """The operator of a bench kernel name (`matmul<N>`, `conv3x3_<C>x<S>`, `resnet18`)."""
    if name == RESNET18:
        return PeerOp(name, "resnet18")
    if match := re.fullmatch(r"matmul(\d+)", name):
        return PeerOp(name, "matmul", {"n": int(match[1])})
    if match := re.fullmatch(r"conv3x3_(\d+)x(\d+)", name):
        return PeerOp(name, "conv3x3", {"c": int(match[1]), "s": int(match[2])})
    return None


# ---- ONNX models (ONNX Runtime Web) ------------------------------------------------------------


def fold_batch_norm(
    weight: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float = BN_EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight (OIHW) and bias equal to conv followed by batch norm in inference mode."""
    scale = gamma / np.sqrt(var + eps)
    folded = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    return folded.astype(np.float32), (beta - mean * scale).astype(np.float32)


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    import onnx
    from onnx import helper

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="pytest-wasm-tune bench",
    )
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    return model


def _value(name: str, shape: Sequence[int]) -> onnx.ValueInfoProto:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def matmul_model(n: int, seed: int = 0) -> onnx.ModelProto:
    """Y[n,n] = A[n,n] @ B (B a constant initializer)."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(seed)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"])],
        f"matmul{n}",
        [_value("A", (n, n))],
        [_value("Y", (n, n))],
        [numpy_helper.from_array(b, "B")],
    )
    return _model(graph)


def conv3x3_model(channels: int, size: int, seed: int = 0) -> onnx.ModelProto:
    """Y = conv(X[1,C,S,S], W[C,C,3,3]), stride 1, pad 1, no bias (NCHW, ORT's layout)."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(seed)
    std = math.sqrt(2 / (9 * channels))
    w = (rng.standard_normal((channels, channels, 3, 3)) * std).astype(np.float32)
    conv = helper.make_node(
        "Conv", ["X", "W"], ["Y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]
    )
    shape = (1, channels, size, size)
    graph = helper.make_graph(
        [conv],
        f"conv3x3_{channels}x{size}",
        [_value("X", shape)],
        [_value("Y", shape)],
        [numpy_helper.from_array(w, "W")],
    )
    return _model(graph)


def resnet18_model(seed: int = 0) -> onnx.ModelProto:
    """ResNet-18 (torchvision topology), batch 1, 3×224×224, random weights, batch norm folded
    into each conv's weight and bias; output `logits` [1, 1000]."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []

    def conv(x: str, spec: Conv, relu: bool) -> str:
        fan_in = spec.cin * spec.kernel**2
        weight = rng.standard_normal((spec.cout, spec.cin, spec.kernel, spec.kernel))
        weight *= math.sqrt(2 / fan_in)
        gamma, beta = rng.uniform(0.5, 1.0, spec.cout), rng.uniform(-0.1, 0.1, spec.cout)
        mean, var = rng.uniform(-0.1, 0.1, spec.cout), rng.uniform(0.5, 1.5, spec.cout)
        w, b = fold_batch_norm(weight, gamma, beta, mean, var)
        initializers.extend(
            [
                numpy_helper.from_array(w, f"{spec.name}.w"),
                numpy_helper.from_array(b, f"{spec.name}.b"),
            ]
        )
        out = spec.name
        k, p = spec.kernel, spec.pad
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{spec.name}.w", f"{spec.name}.b"],
                [out],
                kernel_shape=[k, k],
                strides=[spec.stride] * 2,
                pads=[p] * 4,
            )
        )
        if not relu:
            return out
        nodes.append(helper.make_node("Relu", [out], [f"{out}.relu"]))
        return f"{out}.relu"

    y = conv("image", RESNET18_STEM, relu=True)
    nodes.append(
        helper.make_node(
            "MaxPool", [y], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4
        )
    )
    y = "pool"
    for block in resnet18_blocks():
        shortcut = conv(y, block.downsample, relu=False) if block.downsample else y
        branch = conv(conv(y, block.a, relu=True), block.b, relu=False)
        nodes.append(helper.make_node("Add", [branch, shortcut], [f"{block.name}.add"]))
        nodes.append(helper.make_node("Relu", [f"{block.name}.add"], [f"{block.name}.out"]))
        y = f"{block.name}.out"
    nodes.append(helper.make_node("GlobalAveragePool", [y], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["features"], axis=1))
    fc_w = rng.standard_normal((RESNET18_FEATURES, RESNET18_CLASSES)) / math.sqrt(RESNET18_FEATURES)
    fc_b = rng.uniform(-0.01, 0.01, RESNET18_CLASSES)
    initializers += [
        numpy_helper.from_array(fc_w.astype(np.float32), "fc.w"),
        numpy_helper.from_array(fc_b.astype(np.float32), "fc.b"),
    ]
    nodes.append(helper.make_node("Gemm", ["features", "fc.w", "fc.b"], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "resnet18",
        [_value("image", (1, 3, 224, 224))],
        [_value("logits", (1, RESNET18_CLASSES))],
        initializers,
    )
    return _model(graph)


def onnx_model(op: PeerOp, seed: int) -> onnx.ModelProto:
    if op.kind == "matmul":
        return matmul_model(op.sizes["n"], seed)
    if op.kind == "conv3x3":
        return conv3x3_model(op.sizes["c"], op.sizes["s"], seed)
    return resnet18_model(seed)


# ---- figures ---------------------------------------------------------------------------------


def op_figures(samples_s: Sequence[float], flops: int) -> dict[str, Any]:
    """Per-call seconds of the rounds → median/quartiles and GFLOPS (of the median)."""
    spread = Spread.of(samples_s)
    return {
        "median_s": spread.median,
        "q1_s": spread.q1,
        "q3_s": spread.q3,
        "n": spread.n,
        "gflops": round(flops / spread.median / 1e9, 2),
        "gflops_iqr": [round(flops / spread.q3 / 1e9, 2), round(flops / spread.q1 / 1e9, 2)],
        "min_s": spread.low,
        "gflops_best": round(flops / spread.low / 1e9, 2),  # least disturbed round
    }


def ms_figures(samples_s: Sequence[float]) -> dict[str, Any]:
    """Per-call seconds → median/quartiles in milliseconds."""
    spread = Spread.of(samples_s).scaled(1e3)
    return {
        "median": round(spread.median, 3),
        "q1": round(spread.q1, 3),
        "q3": round(spread.q3, 3),
        "n": spread.n,
        "min": round(spread.low, 3),
    }


def ceiling_figures(
    gflops_by_chains: Mapping[int, Sequence[float]],
) -> tuple[float, dict[str, Any]]:
    """The ceiling (best chain count's median GFLOPS) and the per-chain-count figures."""
    chains: dict[str, Any] = {}
    for count, values in sorted(gflops_by_chains.items()):
        spread = Spread.of(values)
        chains[str(count)] = {
            "median_gflops": round(spread.median, 2),
            "q1_gflops": round(spread.q1, 2),
            "q3_gflops": round(spread.q3, 2),
            "max_gflops": round(spread.high, 2),
            "n": spread.n,
        }
    if not chains:
        raise ValueError("no ceiling samples")
    best = max(chains, key=lambda count: chains[count]["median_gflops"])
    details = {
        "chains": chains,
        "best_chains": int(best),
        "flops_per_step": "chains * 8 (f32x4 mul + add per chain)",
        "source": "web/peers/peak.c",
    }
    return chains[best]["median_gflops"], details


# ---- build, serve, drive ---------------------------------------------------------------------


def build_peak(out_dir: Path) -> Path:
    """Compile web/peers/peak.c to `out_dir`/peak.wasm with emcc."""
    emcc = shutil.which("emcc")
    if emcc is None:
        raise PeerError("emcc was not found: install emscripten (`make setup`)")
    out = out_dir / "peak.wasm"
    command = [emcc, "-O3", "-msimd128", "--no-entry", "-sSTANDALONE_WASM=1", "-o", str(out)]
    try:
        subprocess.run(
            [*command, str(PAGE_DIR / "peak.c")],
            check=True,
            capture_output=True,
            text=True,
            timeout=EMCC_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as err:
        raise PeerError(f"emcc failed on peak.c:\n{err.stderr}") from err
    except subprocess.TimeoutExpired as err:
        raise PeerError(f"emcc took over {EMCC_TIMEOUT_S:.0f} s on peak.c") from err
    return out


def page_assets(peak: Path, models: Mapping[str, Path]) -> dict[str, Path]:
    """URL path → file for the page server (nothing else is served)."""
    missing = [rel for rel in RUNTIME_ASSETS.values() if not (NODE_MODULES / rel).is_file()]
    if missing:
        raise PeerError(f"missing npm files {missing}: run `cd web && npm ci` (or `make setup`)")
    assets = {"/": PAGE_DIR / "index.html", "/peak.wasm": peak}
    assets |= {f"/{name}": PAGE_DIR / name for name in PAGE_FILES}
    assets |= {url: NODE_MODULES / rel for url, rel in RUNTIME_ASSETS.items()}
    assets |= {f"/models/{name}.onnx": path for name, path in models.items()}
    return assets


class PeerPage:
    """The peer page in headless Chromium: the project's binary, driver and flags (as
    `browsers/chromium.py` starts it), the browser pinned to the measure CPU."""

    def __init__(self, url: str, plan: CpuPlan) -> None:
        self.url = url
        self.plan = plan
        self.version = ""
        self._driver: Any = None
        self._profile: str | None = None

    def __enter__(self) -> PeerPage:
        check_chromium()
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")
        self._profile = tempfile.mkdtemp(prefix="wasm-tune-peers-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(defaults.CHROMIUM_BINARY)
        for flag in (
            *defaults.CHROMIUM_PEER_FLAGS,
            *sandbox_flags(),
            f"--user-data-dir={self._profile}",
        ):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(
            str(defaults.CHROMEDRIVER_BINARY), popen_kw={"preexec_fn": self.plan.pin_browser}
        )
        try:
            self._driver = webdriver.Chrome(options=options, service=service)
            self.version = str(self._driver.capabilities.get("browserVersion", ""))
            self._driver.get(self.url)
        except WebDriverException as err:
            self.__exit__()
            raise PeerError(f"Chromium did not start or load {self.url}: {err.msg}") from err
        try:
            self._wait_loaded()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_loaded(self) -> None:
        deadline = time.monotonic() + PAGE_LOAD_TIMEOUT_S
        while time.monotonic() < deadline:
            state = self._driver.execute_script(
                "return [window.peerBenchError || null, !!window.peerBench]"
            )
            if state[0]:
                raise PeerError(f"peer page failed: {state[0]}{self._console()}")
            if state[1]:
                return
            time.sleep(0.05)
        raise PeerError(
            f"peer page did not load within {PAGE_LOAD_TIMEOUT_S:.0f} s{self._console()}"
        )

    def call(self, method: str, *args: Any, timeout_s: float, timed: bool = False) -> Any:
        """Run `window.peerBench.call(method, args)`; PeerError on a page error or timeout.
        A `timed` call holds the host's measurement lock: no other browser of this host (a
        tuning run, another bench) times anything meanwhile."""
        from selenium.common.exceptions import TimeoutException, WebDriverException

        self._driver.set_script_timeout(timeout_s)
        script = (
            "const done = arguments[arguments.length - 1];"
            "window.peerBench.call(arguments[0], arguments[1]).then(done);"
        )
        lock = host_measure_lock().held() if timed else contextlib.nullcontext()
        try:
            with lock:
                answer = self._driver.execute_async_script(script, method, list(args))
        except TimeoutException as err:
            raise PeerError(
                f"peer page failed: {method}{list(args)} took over {timeout_s:.0f} s"
            ) from err
        except WebDriverException as err:
            raise PeerError(f"peer page failed: {method}: {err.msg}{self._console()}") from err
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else repr(answer)
            raise PeerError(f"peer page failed: {method}{list(args)}: {error}")
        return answer["value"]

    def _console(self) -> str:
        with contextlib.suppress(Exception):
            lines = [str(e.get("message", "")) for e in self._driver.get_log("browser")[-20:]]
            if lines:
                return "\nbrowser log:\n" + "\n".join(lines)
        return ""

    def __exit__(self, *exc: object) -> None:
        if self._driver is not None:
            quit_driver(self._driver, _browser_pids(self._driver))
            self._driver = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def process_cpu_s(self) -> float:
        """CPU seconds used so far by the driver and every browser process it started."""
        import psutil

        total = 0.0
        pids = [self._driver.service.process.pid, *_browser_pids(self._driver)]
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total


def _browser_pids(driver: Any) -> list[int]:
    import psutil

    try:
        process = psutil.Process(driver.service.process.pid)
        return [child.pid for child in process.children(recursive=True)]
    except (psutil.Error, AttributeError):
        return []


def cpu_busy_s(cpus: frozenset[int], stat: str | None = None) -> float:
    """Non-idle seconds of `cpus` since boot (/proc/stat; hypervisor steal counts as busy)."""
    text = stat if stat is not None else Path("/proc/stat").read_text()
    ticks = 0
    for line in text.splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
            ticks += sum(values) - values[3] - values[4]
    return ticks / os.sysconf("SC_CLK_TCK")


def contention(
    cpus: frozenset[int],
    wall_s: float,
    busy_s: float,
    browser_s: float,
    other_cpus: frozenset[int] = frozenset(),
    other_busy_s: float = 0.0,
) -> dict[str, Any]:
    """How busy the measure CPUs were during the rounds, by our browser and by anything else,
    and how busy the other CPUs were (a busy sibling core slows wasm too: FIELD_NOTES)."""
    capacity = wall_s * len(cpus)
    load: dict[str, Any] = {
        "cpus": sorted(cpus),
        "browser_busy_pct": round(100 * browser_s / capacity, 1),
        "others_busy_pct": round(100 * max(0.0, busy_s - browser_s) / capacity, 1),
    }
    if other_cpus:
        load["other_cpus"] = sorted(other_cpus)
        load["other_cpus_busy_pct"] = round(100 * other_busy_s / (wall_s * len(other_cpus)), 1)
    return load


# ---- the bench -------------------------------------------------------------------------------


@contextlib.contextmanager
def _site(ops: Sequence[PeerOp], seed: int) -> Iterator[dict[str, Path]]:
    """Build peak.wasm and the ONNX models into a temporary directory; yield the page assets."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="wasm-tune-peers-") as tmp:
        work = Path(tmp)
        log("building peak.wasm (emcc)")
        peak = build_peak(work)
        models = {}
        for op in ops:
            path = work / f"{op.name}.onnx"
            onnx.save_model(onnx_model(op, seed), str(path))
            models[op.name] = path
        log(f"ONNX models written: {', '.join(models)}")
        yield page_assets(peak, models)


def bench_peers(
    kernel_names: Sequence[str],
    rounds: int = 15,
    *,
    resnet18: bool = True,
    seed: int = 0,
    ours: Mapping[str, OpenOurs] | None = None,
    paired: PairedPlan = DEFAULT_PAIRED,
) -> dict[str, Any]:
    """TF.js-wasm and ORT Web on `kernel_names` (+ ResNet-18), and the SIMD128 ceiling.

    Returns {"browser", "ceiling_gflops", "ceiling", "ops": {peer: {kernel: figures}},
    "resnet18_ms": {peer: {median, q1, q3, n}}, ...}; a peer that fails on an op is left out
    of that op and its error is in "errors". Raises PeerError when nothing can be measured.
    `ours` (op name → opener of our samplers, bench/paired.py) adds "paired": per op, ours and
    the peers timed in alternation after the peers' rounds, as `paired` plans.
    """
    try:
        import onnx  # noqa: F401
    except ImportError as err:
        raise PeerError("the `onnx` package is missing: pip install -e '.[bench]'") from err
    ops: list[PeerOp] = []
    for name in kernel_names:
        op = peer_op(name)
        if op is None:
            log(f"no peer operator for kernel {name!r}: skipped")
        else:
            ops.append(op)
    if resnet18:
        ops.append(PeerOp(RESNET18, "resnet18"))
    plan = CpuPlan.for_this_host()
    started = time.monotonic()
    with plan.working(), _site(ops, seed) as assets, PageServer(assets) as server:
        log(f"Chromium on {plan.describe()}")
        with PeerPage(server.origin + "/", plan) as page:
            result = _measure(page, ops, rounds, seed, plan.measure)
            if ours:
                result["paired"] = _paired(page, ops, paired, ours, result)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def _measure(
    page: PeerPage, ops: Sequence[PeerOp], rounds: int, seed: int, measure_cpus: frozenset[int]
) -> dict[str, Any]:
    config = {
        "ops": [op.page_spec(seed + index) for index, op in enumerate(ops)],
        "peakUrl": "/peak.wasm",
        "minSampleMs": MIN_SAMPLE_MS,
        "warmupBatchMs": WARMUP_BATCH_MS,
    }
    log(f"loading TF.js and ONNX Runtime Web ({len(ops)} ops)")
    info = page.call("init", config, timeout_s=INIT_TIMEOUT_S)
    if not info["crossOriginIsolated"]:
        raise PeerError("peer page is not cross-origin isolated (COOP/COEP headers missing)")
    errors: dict[str, dict[str, str]] = {peer: {} for peer in PEERS}
    runs: list[tuple[str, str]] = [("peak", f"peak_{n}") for n in info["peak"]["chains"]]
    for peer in PEERS:
        peer_info = info["peers"][peer]
        if "error" in peer_info:
            log(f"{peer} unavailable: {peer_info['error']}")
            errors[peer]["*"] = peer_info["error"]
            continue
        errors[peer].update(peer_info.get("opErrors", {}))
    _check_resnet_flops(info)
    warmups: dict[str, dict[str, Any]] = {}
    for op in ops:
        for peer in PEERS:
            if "*" not in errors[peer] and op.name not in errors[peer]:
                runs.append((peer, op.name))
    for peer, name in list(runs):
        try:
            warm = page.call("warmup", peer, name, timeout_s=WARMUP_TIMEOUT_S, timed=True)
            _check_output(peer, name, warm.get("check"), ops)
        except PeerError as err:
            if peer == "peak":
                raise
            log(f"{peer} {name}: {err}")
            errors[peer][name] = str(err)
            runs.remove((peer, name))
            continue
        best = warm["bestMs"]
        settled = "" if warm["settled"] else " (still improving at the warm-up limit)"
        log(f"warm {peer} {name}: {len(warm['perCallMs'])} batches, best {best:.3f} ms{settled}")
        warmups.setdefault(peer, {})[name] = {
            "batches": len(warm["perCallMs"]),
            "best_ms": round(best, 4),
            "settled": warm["settled"],
        }
    samples: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    peak_gflops: dict[int, list[float]] = {}
    other_cpus = frozenset(os.sched_getaffinity(0)) - measure_cpus
    start = (time.monotonic(), cpu_busy_s(measure_cpus), page.process_cpu_s())
    start_other = cpu_busy_s(other_cpus)
    waited_before = host_measure_lock().waited_s
    for round_index in range(rounds):
        order = PEERS if round_index % 2 == 0 else PEERS[::-1]
        schedule = [run for run in runs if run[0] == "peak"]
        schedule += [(peer, op.name) for op in ops for peer in order if (peer, op.name) in samples]
        for peer, name in schedule:
            sample = page.call("sample", peer, name, timeout_s=SAMPLE_TIMEOUT_S, timed=True)
            samples[(peer, name)].append(sample["perCallS"])
            if peer == "peak":
                chains = int(name.removeprefix("peak_"))
                peak_gflops.setdefault(chains, []).append(_peak_gflops(sample))
        log(f"round {round_index + 1}/{rounds}: {_round_line(samples, ops, peak_gflops)}")
    busy = contention(
        measure_cpus,
        time.monotonic() - start[0],
        cpu_busy_s(measure_cpus) - start[1],
        page.process_cpu_s() - start[2],
        other_cpus,
        cpu_busy_s(other_cpus) - start_other,
    )
    log(
        f"measure CPU {busy['cpus']} during the rounds: our browser {busy['browser_busy_pct']} %,"
        f" everything else {busy['others_busy_pct']} %; other CPUs"
        f" {busy.get('other_cpus_busy_pct', 'n/a')} % busy"
    )
    result = _assemble(page.version, info, ops, samples, peak_gflops, warmups, errors, rounds)
    busy["lock_waited_s"] = round(host_measure_lock().waited_s - waited_before, 2)
    result["measure_cpu_load"] = busy
    return result


def _paired(
    page: PeerPage,
    ops: Sequence[PeerOp],
    plan: PairedPlan,
    ours: Mapping[str, OpenOurs],
    measured: Mapping[str, Any],
) -> dict[str, Any]:
    """Per op in `ours`: ours and the peers (warm, those `measured` has figures of) timed in
    alternating rounds, as `plan` says, the ops taking turns session by session. A failure on
    our side leaves that op unpaired."""
    from pytest_wasm_tune.errors import WasmTuneError

    def peer_sampler(peer: str, name: str) -> Callable[[], float]:
        return lambda: page.call("sample", peer, name, timeout_s=SAMPLE_TIMEOUT_S, timed=True)[
            "perCallS"
        ]

    def peak() -> float:
        name = f"peak_{measured['ceiling']['best_chains']}"
        return _peak_gflops(
            page.call("sample", "peak", name, timeout_s=SAMPLE_TIMEOUT_S, timed=True)
        )

    operators: dict[str, tuple[Samplers, OpenOurs]] = {}
    for op in ops:
        if op.name not in ours:
            continue
        figures_of = (
            measured["resnet18_ms"]
            if op.kind == "resnet18"
            else {peer: figures for peer, figures in measured["ops"].items() if op.name in figures}
        )
        peers = {peer: peer_sampler(peer, op.name) for peer in PEERS if peer in figures_of}
        if peers:
            operators[op.name] = (peers, ours[op.name])
    if not operators:
        return {}
    log(
        f"{', '.join(operators)}: ours and the peers in {plan.sessions} sessions of ours,"
        f" {plan.rounds} alternating rounds each, the operators taking turns session by session"
    )
    tables = alternate(
        operators,
        peak,
        plan,
        recoverable=(PeerError, WasmTuneError),
        on_failure=lambda name, err: log(f"{name}: not paired: {err}"),
    )
    figures: dict[str, Any] = {}
    for op in ops:
        table = tables.get(op.name)
        if not table:
            continue
        flops = None if op.kind == "resnet18" else op.flops
        labels = labels_of_ours(table, PEERS)
        figures[op.name] = paired_figures(table, PEERS, labels, flops)
        figures[op.name]["table"] = table
        for label in labels:
            ratio = figures[op.name][label]["peer_ratio"]
            log(f"{op.name} {label}: peer / ours {ratio['median']} ({ratio['q1']}-{ratio['q3']})")
    return figures


def _peak_gflops(sample: Mapping[str, Any]) -> float:
    """GFLOPS of one sample of the ceiling kernel."""
    return sample["flopsPerCall"] / sample["perCallS"] / 1e9


def _check_resnet_flops(info: Mapping[str, Any]) -> None:
    """Both peers must run the same ResNet-18: TF.js counts its flops, we count ours."""
    tfjs = info["peers"].get("tfjs_wasm", {}).get("flops", {}).get(RESNET18)
    if tfjs is not None and tfjs != resnet18_flops():
        raise PeerError(f"TF.js ResNet-18 has {tfjs} flops, the ONNX one {resnet18_flops()}")


def _expected_shape(op: PeerOp, peer: str) -> list[int]:
    if op.kind == "resnet18":
        return [1, RESNET18_CLASSES]
    if op.kind == "conv3x3" and peer == "tfjs_wasm":
        return [1, op.sizes["s"], op.sizes["s"], op.sizes["c"]]  # NHWC
    return list(op.ort_input)


def _check_output(peer: str, name: str, check: Any, ops: Sequence[PeerOp]) -> None:
    if peer == "peak" or check is None:
        return
    op = next(op for op in ops if op.name == name)
    expected = _expected_shape(op, peer)
    if check["shape"] != expected or not check["finite"]:
        raise PeerError(
            f"peer page failed: {peer} {name} gave shape {check['shape']} (expected {expected}),"
            f" finite: {check['finite']}"
        )


def _round_line(
    samples: Mapping[tuple[str, str], list[float]],
    ops: Sequence[PeerOp],
    peak_gflops: Mapping[int, list[float]],
) -> str:
    parts = [f"peak {max(values[-1] for values in peak_gflops.values()):.1f} GFLOPS"]
    for op in ops:
        for peer in PEERS:
            values = samples.get((peer, op.name))
            if not values:
                continue
            if op.kind == "resnet18":
                parts.append(f"{peer} {op.name} {values[-1] * 1e3:.1f} ms")
            else:
                parts.append(f"{peer} {op.name} {op.flops / values[-1] / 1e9:.1f}")
    return ", ".join(parts)


def _assemble(
    browser: str,
    info: Mapping[str, Any],
    ops: Sequence[PeerOp],
    samples: Mapping[tuple[str, str], list[float]],
    peak_gflops: Mapping[int, list[float]],
    warmups: Mapping[str, Any],
    errors: Mapping[str, Mapping[str, str]],
    rounds: int,
) -> dict[str, Any]:
    ceiling, ceiling_details = ceiling_figures(peak_gflops)
    figures: dict[str, dict[str, Any]] = {peer: {} for peer in PEERS}
    resnet: dict[str, dict[str, Any]] = {}
    for op in ops:
        for peer in PEERS:
            values = samples.get((peer, op.name))
            if not values:
                continue
            if op.kind == "resnet18":
                resnet[peer] = ms_figures(values)
            else:
                figures[peer][op.name] = op_figures(values, op.flops)
    return {
        "browser": browser,
        "ceiling_gflops": ceiling,
        "ceiling": ceiling_details,
        "ops": figures,
        "resnet18_ms": resnet,
        "resnet18_gflop": round(resnet18_flops() / 1e9, 3),
        "rounds": rounds,
        "method": (
            f"warm-up until no gain > 2 % for 3 batches of >= {WARMUP_BATCH_MS:.0f} ms; "
            f"{rounds} interleaved rounds, each sample a batch of calls lasting "
            f">= {MIN_SAMPLE_MS:.0f} ms (performance.now, cross-origin isolated)"
        ),
        "page": {
            "user_agent": info["userAgent"],
            "timer_resolution_ms": info["timerResolutionMs"],
            "hardware_concurrency": info["hardwareConcurrency"],
            "peers": {
                peer: {
                    k: v for k, v in info["peers"][peer].items() if k not in ("opErrors", "flops")
                }
                for peer in PEERS
            },
        },
        "warmup": warmups,
        "errors": {peer: dict(errs) for peer, errs in errors.items() if errs},
    }


if __name__ == "__main__":
    names = sys.argv[1:] or ["matmul512", "conv3x3_64x56"]
    print(json.dumps(bench_peers(names, rounds=5), indent=1))
