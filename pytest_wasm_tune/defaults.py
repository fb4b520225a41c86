"""Every default of pytest-wasm-tune, in one place."""

from pathlib import Path

LOOPBACK_HOST = "127.0.0.1"
CACHE_DIR_ENV = "WASM_TUNE_CACHE_DIR"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "pytest-wasm-tune"

# Compile and link flags of TVM's web/Makefile (the runtime objects and tvmjs_runtime.js).
EMCC_CFLAGS = ("-O3", "-std=c++17", "-Wno-ignored-attributes")
EMCC_RUNTIME_LDFLAGS = (
    "--no-entry",
    "-sWASM_BIGINT=1",
    "-sALLOW_MEMORY_GROWTH=1",
    "-sSTANDALONE_WASM=1",
    "-sERROR_ON_UNDEFINED_SYMBOLS=0",
    "-sASYNCIFY=1",
)
# Flags of the kernel module link (tvm.support.emcc.create_tvmjs_wasm without -O3).
EMCC_KERNEL_LDFLAGS = (
    "-O0",
    "--no-entry",
    "-sWASM_BIGINT=1",
    "-sALLOW_MEMORY_GROWTH=1",
    "-sSTANDALONE_WASM=1",
    "-sERROR_ON_UNDEFINED_SYMBOLS=0",
    "-sTOTAL_MEMORY=160MB",
)
RUNTIME_SOURCES = ("wasm_runtime", "tvmjs_support", "webgpu_runtime")

WASM_TARGET = {
    "kind": "llvm",
    "mtriple": "wasm32-unknown-unknown-wasm",
    "mattr": ["+simd128"],
    "num-cores": 1,
}
# Relaxed SIMD (opt-in): LLVM contracts a*b+c into f32x4.relaxed_madd, a fused multiply-add on
# CPUs with FMA. Chromium runs it (measured: 35.5 → 41.9 GFLOPS for one 256³ matmul schedule);
# browsers without relaxed SIMD cannot even load such a module.
RELAXED_SIMD_TARGET_ATTRS = {"mattr": ["+simd128", "+relaxed-simd"], "fast-math-contract": True}
SYSTEM_LIB_PREFIX = ""

CHROMIUM_BINARY = Path("/usr/bin/chromium")
CHROMEDRIVER_BINARY = Path("/usr/bin/chromedriver")
FIREFOX_BINARY = Path("/usr/bin/firefox-esr")
WEBKIT_DRIVER_BINARY = Path("/usr/bin/WebKitWebDriver")
WEBKIT_BROWSER_BINARY = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
XVFB_BINARY = Path("/usr/bin/Xvfb")
# `--no-sandbox` is added only where the sandbox cannot work (root, no user namespaces):
# browsers/sandbox.py
CHROMIUM_BASE_FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
# The page compiles each kernel with V8's optimizing tier (TurboFan) before timing it, through
# V8's natives; the rest of a module starts on the Liftoff baseline, so a new module opens in
# ~0.2 s instead of ~1.7 s under --no-liftoff (web/README.md, "Warm code")
CHROMIUM_FLAGS = (*CHROMIUM_BASE_FLAGS, "--js-flags=--allow-natives-syntax")
# Side by side with the peers (bench/peers.py): every wasm function, ours and theirs alike, is
# compiled with TurboFan on its first call, none of it waits for V8's own tier-up
CHROMIUM_PEER_FLAGS = (*CHROMIUM_BASE_FLAGS, "--js-flags=--no-liftoff")

BROWSER_READY_TIMEOUT_S = 30.0
BROWSER_START_ATTEMPTS = 3  # a browser that fails to start this often leaves the farm
SERVICE_START_TIMEOUT_S = 20.0
SESSION_OPEN_TIMEOUT_S = 30.0
SESSION_END_TIMEOUT_S = 10.0
REMOTE_CALL_TIMEOUT_S = 60.0
SUBPROCESS_TIMEOUT_S = 900.0
# pipelined builds: candidates per module (the first one of a batch is half as large)
PIPELINE_CHUNK_SIZE = 16
BUILD_TIMEOUT_S = 30.0  # one candidate's compile (MetaSchedule's LocalBuilder default)

MEASURE_REPEAT = 3
MEASURE_MIN_REPEAT_MS = 40.0
MEASURE_WARMUP = 1
# the page's warm-up bound while searching (its default, 100 ms, stays for final figures): the
# kernel runs optimized code from its first call (web/README.md), and the bench's levers gave
# -0.01 to -0.04 s per trial on the matmul, the same GFLOPS (README: levers of 2026-12-04)
SEARCH_WARMUP_MAX_MS = 25.0
ABANDON_FACTOR = 10.0
# a fresh module's first calls can take milliseconds whatever the kernel (web/README.md): below
# this, slow first calls say nothing about the candidate, so it is not abandoned
ABANDON_FLOOR_S = 0.01
# Final re-measurement of a task (default, best, runners-up side by side in one fresh session):
# rounds give the spread; 9 rounds put the distribution-free 95 % interval of the median at the
# 2nd and 8th values. The fast check (no tuning) times the default in fewer rounds.
FINAL_ROUNDS = 9
CHECK_ROUNDS = 3
FINALISTS = 3  # best + 2 runners-up
SEARCH_ROUNDS = 3  # searches per run while earlier runs' candidates use up the budget
# MetaSchedule's evolutionary search: candidates bred per batch, and rounds of mutation
SEARCH_POPULATION = 128  # MetaSchedule: 512; bench/levers.py: same GFLOPS, -0.1 s per trial
GENETIC_ITERS = 4
# results the XGBoost cost model trains on before it ranks candidates; it scores at random until
# then. MetaSchedule's 100 leaves both batches of a 128-trial task (64 per batch) unranked.
# bench/levers.py of 2026-12-05 with 1 (ranked from the second batch on), 4 seeds each: the
# conv 256@14 gained (median 56.2 against 49.8 GFLOPS), the matmul lost in every seed (-5 %),
# the conv 512@7 was even, and the search cost 0.017 s more per trial: MetaSchedule's value stays.
COST_MODEL_WARMUP = 100
# Until then, a candidate's score is the measured speed of the schedules nearest in its sampled
# decisions, weighted by exp(-distance / tau) (neighbour_scores.py). Offline, on the second
# batches of ten earlier conv tunings, tau 2 ranked them at a Spearman correlation of 0.58
# (XGBoost trained on the first batch: 0.38; tau 0.5: 0.47, tau 1: 0.51). bench/levers.py of
# 2026-12-05, 7 seeds per kernel against random scores: the conv 512@7 won 6 of 7 seeds and the
# conv 256@14 5 of 7 (medians +6-13 %), the others came out even (README, levers).
NEIGHBOUR_TAU = 2.0
# The largest explicit unroll step the design space samples (MetaSchedule's CPU steps: 0, 16, 64,
# 512). A 512-step candidate compiled in 0.75 s on average against 0.09-0.12 s for the others,
# 73 % of all compile time on the conv 512@7 and 256@14, and was rarely among the fastest.
# bench/levers.py of 2026-12-05, 3 seeds per kernel: capped at 64, the overhead per trial fell
# on every kernel (medians 0.11-0.27 -> 0.11-0.16 s) at even GFLOPS (README, levers).
MAX_UNROLL_STEP = 64
# The width of the SIMD vectors that the innermost tile of a tiled block's last spatial loop is
# made of (wasm SIMD128); 0: any tile (vector_tiles.whole_vector_tiles). bench/levers.py of
# 2026-12-05, 7 seeds per kernel: the matmul gained in every seed (+10 %), the convs came out
# even (README, levers).
VECTOR_BITS = 128
# a conv's innermost reduction tile loops over taps only, its input channels outside
# (tap_reductions.py). 2026-12-05 evening, conv 512@7: median of 14 tunings 57.0 GFLOPS
# against 50.3 of 16 without; the conv 256@14 and 64@56 even (README, levers).
TAPS_INNERMOST = True
WARM_START_SEEDS = 8  # best records of another run measured first (warm_start.py)
SIBLING_SEEDS = 0  # schedules of sibling tasks a task's first search starts from (siblings.py)
