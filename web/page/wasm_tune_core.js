// Pure logic of the pytest-wasm-tune measurement page: no DOM, no tvmjs, no wasm.
// Imported by wasm_tune_page.js in the browser and by the node tests in web/tests/.

/** Version of the page protocol (reported by `wasm_tune.info`). */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Page parameters
// ---------------------------------------------------------------------------------------------

/**
 * Reads `key` and `proxy` from the page's query string.
 * @param {string} search location.search, e.g. "?key=wasm&proxy=ws://127.0.0.1:9000/ws"
 * @returns {{key: string, proxyUrl: string}}
 * @throws Error when a parameter is missing or the proxy URL is not ws:// or wss://.
 */
export function parsePageParams(search) {
  const params = new URLSearchParams(search);
  const key = (params.get("key") || "").trim();
  const proxyUrl = (params.get("proxy") || "").trim();
  if (!key) throw new Error("missing URL parameter `key` (the RPC key to register)");
  if (!proxyUrl) throw new Error("missing URL parameter `proxy` (the websocket URL of the RPC proxy)");
  let url;
  try {
    url = new URL(proxyUrl);
  } catch {
    throw new Error(`URL parameter \`proxy\` is not a URL: ${proxyUrl}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new Error(`URL parameter \`proxy\` must be a ws:// or wss:// URL, got ${proxyUrl}`);
  }
  return { key, proxyUrl };
}

// ---------------------------------------------------------------------------------------------
// Stage references: session_constructor_args=["rpc.WasmSession", b"wasm-tune-stage:" + sha256hex]
// ---------------------------------------------------------------------------------------------

export const STAGE_PREFIX = "wasm-tune-stage:";
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

/**
 * Classifies the second session-constructor argument.
 * @param {Uint8Array|ArrayBuffer|string} arg bytes (a wasm module or a stage reference) or a string
 * @returns {null | {sha256: string, path: string}} null for anything that is not a stage
 *   reference (real wasm bytes start with "\0asm"); otherwise the lower-case digest and the
 *   same-origin path of the staged module, `/stage/<sha256>.wasm`.
 * @throws Error when the argument starts with the stage prefix but the digest is malformed.
 */
export function parseStageRef(arg) {
  let text;
  if (typeof arg === "string") {
    text = arg;
  } else {
    const bytes = asBytes(arg);
    if (bytes === null || bytes.length < STAGE_PREFIX.length) return null;
    for (let i = 0; i < STAGE_PREFIX.length; ++i) {
      if (bytes[i] !== STAGE_PREFIX.charCodeAt(i)) return null;
    }
    // Only a short reference is decoded; a real module never gets this far.
    if (bytes.length > STAGE_PREFIX.length + 256) {
      throw new Error(`stage reference too long (${bytes.length} bytes)`);
    }
    text = String.fromCharCode(...bytes);
  }
  if (!text.startsWith(STAGE_PREFIX)) return null;
  const digest = text.slice(STAGE_PREFIX.length).trim();
  if (!SHA256_HEX.test(digest)) {
    throw new Error(
      `invalid stage reference ${JSON.stringify(text.slice(0, 100))}: ` +
        "expected `wasm-tune-stage:` followed by 64 hex characters (a sha256 digest)",
    );
  }
  const sha256 = digest.toLowerCase();
  return { sha256, path: `/stage/${sha256}.wasm` };
}

/** Lower-case hex of a digest (ArrayBuffer or bytes). */
export function toHex(digest) {
  const bytes = asBytes(digest);
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** True when the bytes start with the wasm magic "\0asm". */
export function isWasmBinary(bytes) {
  const b = asBytes(bytes);
  return b !== null && b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
}

/**
 * An RPC `kException` return packet carrying `message`: what the C++ endpoint sends when a call
 * fails (minrpc/rpc_reference.h ReturnException). Lets the page fail a session init with a
 * readable error on the client instead of a bare disconnect.
 * Layout (little-endian): u64 body_bytes, i32 code=5, i32 num_args=1, i32 type_index=8 (raw str),
 * u64 length, bytes.
 */
export function encodeRpcException(message) {
  const text = new TextEncoder().encode(message);
  const bodyBytes = 4 + 4 + 4 + 8 + text.length;
  const packet = new Uint8Array(8 + bodyBytes);
  const dv = new DataView(packet.buffer);
  dv.setBigUint64(0, BigInt(bodyBytes), true);
  dv.setInt32(8, 5, true); // RPCCode::kException
  dv.setInt32(12, 1, true);
  dv.setInt32(16, 8, true); // kTVMFFIRawStr
  dv.setBigUint64(20, BigInt(text.length), true);
  packet.set(text, 28);
  return packet;
}

// ---------------------------------------------------------------------------------------------
// Reconnection backoff
// ---------------------------------------------------------------------------------------------

export const BACKOFF = Object.freeze({ initialMs: 200, maxMs: 2000, factor: 2 });

/**
 * Delay before the next connection attempt.
 * @param {number} failures consecutive connections that ended without a client session
 *   (0 after a socket that served a session: reconnect at once so the key is available again).
 * @returns {number} 0, then 200, 400, 800, 1600, 2000, 2000, ... ms
 */
export function backoffDelayMs(failures, { initialMs, maxMs, factor } = BACKOFF) {
  if (!(failures > 0)) return 0;
  const delay = initialMs * Math.pow(factor, failures - 1);
  return Math.min(maxMs, delay);
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

/** Upper bound of `number` (calls per repeat) chosen by calibration. */
export const MAX_NUMBER = 1000000;
/** At most this many calibration batches are run. */
export const MAX_CALIBRATION_ROUNDS = 12;
/** A calibrated repeat shorter than this fraction of the floor restarts the repeats. */
export const REPEAT_FLOOR_SLACK = 0.9;
/** At most this many restarts of the repeats per measurement. */
export const MAX_REPEAT_RESTARTS = 3;

/**
 * Calls per repeat so that one repeat lasts at least `minRepeatMs`.
 * @param {number} perCallMs estimated duration of one call (ms)
 * @param {number} minRepeatMs wanted minimum duration of one repeat (ms)
 * @param {number} maxNumber cap
 * @returns {number} integer in [1, maxNumber]
 */
export function calibrateNumber(perCallMs, minRepeatMs, maxNumber = MAX_NUMBER) {
  if (!(minRepeatMs > 0)) return 1;
  if (!(perCallMs > 0)) return maxNumber;
  const n = Math.ceil(minRepeatMs / perCallMs);
  return Math.max(1, Math.min(maxNumber, n));
}

/**
 * Next guess after a calibration batch of `n` calls lasted `durationMs` < `targetMs`:
 * scaled to the target with 10 % margin (x8 when the timer saw nothing), always larger.
 */
export function nextCalibrationNumber(n, durationMs, targetMs, maxNumber = MAX_NUMBER) {
  const scaled = durationMs > 0 ? Math.ceil((n * targetMs * 1.1) / durationMs) : n * 8;
  return Math.min(maxNumber, Math.max(n + 1, scaled));
}

/**
 * Default bounds of the adaptive warm-up (see `warmUp`). `batchMs` is the length a warm-up
 * batch is sized to once the first calls are timed (single calls for kernels slower than that).
 */
export const WARMUP_LIMITS = Object.freeze({ maxCalls: 10000, maxMs: 100, tolerance: 0.04, batchMs: 5 });

/**
 * Bounds of the adaptive warm-up: `WARMUP_LIMITS` with the given fields replaced.
 * @param {object|string|undefined} given an object or its JSON (e.g. '{"maxMs": 5000}')
 * @returns {{maxCalls: number, maxMs: number, tolerance: number, batchMs: number}}
 */
export function warmupLimits(given) {
  const parsed = typeof given === "string" ? (given.trim() ? JSON.parse(given) : {}) : given ?? {};
  if (typeof parsed !== "object" || Array.isArray(parsed) || parsed === null) {
    throw new Error(`warm-up limits must be an object, got ${JSON.stringify(given)}`);
  }
  const limits = { ...WARMUP_LIMITS };
  for (const [name, value] of Object.entries(parsed)) {
    if (!(name in limits)) throw new Error(`unknown warm-up limit ${name} (known: ${Object.keys(limits).join(", ")})`);
    const v = Number(value);
    if (!Number.isFinite(v) || v < 0 || (name === "maxCalls" && !Number.isInteger(v))) {
      throw new Error(`warm-up limit ${name} must be a number >= 0${name === "maxCalls" ? " (an integer)" : ""}, got ${value}`);
    }
    limits[name] = v;
  }
  return limits;
}

/**
 * Splits an optional leading JSON string of warm-up limits off RPC arguments
 * (`[limits_json,] ...tensors`): tensors never arrive as strings.
 * @returns {[object|undefined, any[]]} the parsed limits (undefined: defaults) and the rest
 */
export function splitWarmupLimits(args) {
  return typeof args[0] === "string" ? [warmupLimits(args[0]), args.slice(1)] : [undefined, args];
}

/**
 * True when the warm-up has settled: the last two warm-up units (calls or batches), as per-call
 * times, are both within `tolerance` (relative) of the fastest unit so far, so they agree with
 * each other and the code got no faster lately. Engine-neutral: it watches the time, not tiers.
 * @param {number[]} perCallMs per-call time of each warm-up unit so far, in order
 */
export function warmupSettled(perCallMs, tolerance) {
  if (perCallMs.length < 2) return false;
  const best = Math.min(...perCallMs);
  const last = Math.max(perCallMs[perCallMs.length - 1], perCallMs[perCallMs.length - 2]);
  return last <= best * (1 + tolerance);
}

/**
 * Adaptive warm-up: runs code until its per-call time stops improving, so that timed repeats
 * see optimized code (V8 starts wasm on its Liftoff baseline and swaps in TurboFan code per
 * function in the background; other engines tier up likewise).
 *
 * 1. `minCalls` (>= 1) single calls. If `abandonAboveMs > 0` and the fastest of them took
 *    longer, stop: the code is far slower than the best known (`stop: "abandoned"`).
 * 2. Then batches sized to last ~`limits.batchMs` at the best per-call time so far (single
 *    calls for slower code), until `warmupSettled` (`"stable"`), `limits.maxCalls` calls
 *    (`"calls"`) or `limits.maxMs` ms spent in calls (`"time"`); the last unit may overshoot
 *    either bound. Step 1 always runs in full, even beyond the limits.
 * Only units the clock resolves well count (`reliable`: lasting >= half of `batchMs` and > 0):
 * a shorter unit (its calls were faster than the guess) is sized up and run again.
 * The event loop gets a turn after every unit.
 *
 * @returns {Promise<{unitsMs: number[], unitsNumber: number[], perCallMs: number[], calls: number,
 *   totalMs: number, bestMs: number, stop: "stable"|"calls"|"time"|"abandoned"}>}
 *   `bestMs` is the fastest reliable per-call time (else the fastest non-zero one, else 0).
 */
export async function warmUp({ timeBatch, yieldToLoop, minCalls = 1, abandonAboveMs = 0, limits = WARMUP_LIMITS }) {
  const unitsMs = [];
  const unitsNumber = [];
  const perCallMs = [];
  const reliable = []; // per-call times of the units the clock resolved well
  const resolves = (ms) => ms > 0 && ms >= limits.batchMs / 2;
  let calls = 0;
  let totalMs = 0;
  const run = async (n) => {
    const ms = timeBatch(n);
    unitsMs.push(ms);
    unitsNumber.push(n);
    perCallMs.push(ms / n);
    if (resolves(ms)) reliable.push(ms / n);
    calls += n;
    totalMs += ms;
    await yieldToLoop();
  };
  const bestMs = () => {
    const seen = reliable.length ? reliable : perCallMs.filter((t) => t > 0);
    return seen.length ? Math.min(...seen) : 0;
  };
  const done = (stop) => ({ unitsMs, unitsNumber, perCallMs, calls, totalMs, bestMs: bestMs(), stop });

  for (let i = 0; i < Math.max(1, minCalls); ++i) await run(1);
  if (abandonAboveMs > 0 && Math.min(...perCallMs) > abandonAboveMs) return done("abandoned");
  for (;;) {
    if (warmupSettled(reliable, limits.tolerance)) return done("stable");
    if (calls >= limits.maxCalls) return done("calls");
    if (totalMs >= limits.maxMs) return done("time");
    const lastN = unitsNumber[unitsNumber.length - 1];
    const lastMs = unitsMs[unitsMs.length - 1];
    const n = resolves(lastMs)
      ? calibrateNumber(bestMs(), limits.batchMs, limits.maxCalls)
      : nextCalibrationNumber(lastN, lastMs, limits.batchMs, limits.maxCalls);
    // The time left is shared out at the fastest per-call time seen in any unit: a slow first
    // call (compilation) must not keep every later unit as short as itself.
    const fastest = Math.min(...perCallMs.filter((t) => t > 0));
    const left = Number.isFinite(fastest) ? Math.max(1, Math.floor((limits.maxMs - totalMs) / fastest)) : n;
    await run(Math.max(1, Math.min(n, left)));
  }
}

/**
 * Runs one measurement. Pure control flow: the caller supplies the clocked kernel loop.
 *
 * 1. The adaptive warm-up (`warmUp`): at least max(warmup, 1) calls, then until the per-call
 *    time stops improving, within `warmupLimits`. An abandoned candidate is timed by its
 *    fastest warm-up call alone (`abandoned: true`, number 1).
 * 2. If number <= 0: a first guess from the fastest warm-up unit, then calibration batches run
 *    back to back, each topping the calls up to the next guess, until together they last
 *    >= REPEAT_FLOOR_SLACK × minRepeatMs (the floor the repeats are held to); together they are
 *    the first repeat (`calibrate`), so a short first guess costs no calls.
 * 3. `repeat` timed repeats of `number` calls. When `number` was calibrated, a repeat shorter
 *    than REPEAT_FLOOR_SLACK × minRepeatMs means the code got faster than the warm-up saw (a
 *    late tier-up, or contention that ended): the repeats so far timed other code, so they are
 *    dropped, `number` is recalibrated from that repeat and the repeats start over, at most
 *    MAX_REPEAT_RESTARTS times (`restarts`).
 * The event loop gets a turn after every call batch so the websocket stays serviced.
 *
 * @param {object} o
 * @param {(n: number) => number} o.timeBatch runs n calls back to back, returns elapsed ms
 *   (throws on a kernel error)
 * @param {() => Promise<void>} o.yieldToLoop gives the event loop a turn
 * @param {number} o.number calls per repeat; <= 0 calibrates it
 * @param {number} o.repeat number of timed repeats (>= 1)
 * @param {number} o.minRepeatMs minimum duration of one repeat when calibrating
 * @param {number} o.warmup minimum warm-up calls (at least 1 is run)
 * @param {number} [o.abandonAboveMs] > 0: abandon when the fastest of the first calls is slower
 * @param {object|string} [o.warmupLimits] overrides of WARMUP_LIMITS
 * @param {number} [o.maxNumber]
 * @returns {Promise<{number: number, timesS: number[], warmupS: number[], warmupNumber: number[],
 *   warmupCalls: number, warmupMs: number, warmupStop: string, calibrationMs: number[],
 *   untimedMs: number, restarts: number, abandoned: boolean}>} `untimedMs`: the calls that
 *   were neither warm-up nor kept repeats (calibration batches, repeats dropped by restarts)
 */
export async function runMeasurement(o) {
  const maxNumber = o.maxNumber ?? MAX_NUMBER;
  const repeat = toCount(o.repeat, "repeat", 1);
  const warmup = Math.max(1, toCount(o.warmup, "warmup", 0));
  let number = Math.floor(Number(o.number));
  if (!Number.isFinite(number)) throw new Error(`number must be an integer, got ${o.number}`);
  const minRepeatMs = Number(o.minRepeatMs) || 0;
  const limits = warmupLimits(o.warmupLimits);

  const warm = await warmUp({
    timeBatch: o.timeBatch,
    yieldToLoop: o.yieldToLoop,
    minCalls: warmup,
    abandonAboveMs: Number(o.abandonAboveMs) || 0,
    limits,
  });
  const report = {
    warmupS: warm.perCallMs.map((ms) => ms / 1000),
    warmupNumber: warm.unitsNumber,
    warmupCalls: warm.calls,
    warmupMs: warm.totalMs,
    warmupStop: warm.stop,
  };
  const calibrationMs = [];
  let timesS = [];
  if (warm.stop === "abandoned") {
    // far slower than the best known candidate: one call tells enough, spare the repeats
    return { number: 1, timesS: [warm.bestMs / 1000], calibrationMs, untimedMs: 0, restarts: 0, abandoned: true, ...report };
  }
  const calibrated = number <= 0 && minRepeatMs > 0;
  if (number <= 0) {
    number = calibrateNumber(warm.bestMs, minRepeatMs, maxNumber);
    if (minRepeatMs > 0) {
      const first = await calibrate(o, number, minRepeatMs, maxNumber);
      number = first.number;
      calibrationMs.push(...first.shortMs);
      if (first.repeatS !== null) timesS.push(first.repeatS);
    }
  }

  let restarts = 0;
  let droppedMs = 0; // repeats dropped by restarts
  while (timesS.length < repeat) {
    const durationMs = o.timeBatch(number);
    await o.yieldToLoop();
    const tooShort = durationMs < minRepeatMs * REPEAT_FLOOR_SLACK && number < maxNumber;
    if (calibrated && tooShort && restarts < MAX_REPEAT_RESTARTS) {
      restarts += 1;
      droppedMs += timesS.reduce((sum, t) => sum + t * number * 1000, durationMs);
      timesS = [];
      number = calibrateNumber(durationMs / number, minRepeatMs, maxNumber);
      continue;
    }
    timesS.push(durationMs / number / 1000);
  }
  const untimedMs = calibrationMs.reduce((sum, ms) => sum + ms, droppedMs);
  return { number, timesS, calibrationMs, untimedMs, restarts, abandoned: false, ...report };
}

/**
 * Calibration batches of `runMeasurement`, run back to back from a first guess of `number`:
 * each tops the calls so far up to the next guess, until their sum lasts the floor the repeats
 * are held to (REPEAT_FLOOR_SLACK × minRepeatMs). That sum is the first repeat, so a guess that
 * fell short costs no calls (`repeatS`: seconds per call). Without it, after
 * MAX_CALIBRATION_ROUNDS or at `maxNumber`, the batches were calibration only (`shortMs`).
 * @returns {Promise<{number: number, repeatS: number|null, shortMs: number[]}>}
 */
async function calibrate(o, guess, minRepeatMs, maxNumber) {
  const batchesMs = [];
  let calls = 0;
  let spentMs = 0;
  let target = guess;
  for (let round = 0; round < MAX_CALIBRATION_ROUNDS; ++round) {
    const durationMs = o.timeBatch(target - calls);
    await o.yieldToLoop();
    batchesMs.push(durationMs);
    calls = target;
    spentMs += durationMs;
    if (spentMs >= minRepeatMs * REPEAT_FLOOR_SLACK) {
      return { number: calls, repeatS: spentMs / calls / 1000, shortMs: [] };
    }
    if (calls >= maxNumber) break;
    target = nextCalibrationNumber(calls, spentMs, minRepeatMs, maxNumber);
  }
  return { number: target, repeatS: null, shortMs: batchesMs };
}

function toCount(value, name, min) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

/**
 * Smallest non-zero step of a clock, sampled for up to `budgetMs` or `maxSamples` reads.
 * @param {() => number} now e.g. () => performance.now()
 * @returns {number} ms, or 0 if the clock never moved
 */
export function measureTimerResolution(now, { budgetMs = 20, maxSamples = 200000 } = {}) {
  const start = now();
  let last = start;
  let best = Infinity;
  for (let i = 0; i < maxSamples; ++i) {
    const t = now();
    if (t !== last) {
      if (t > last) best = Math.min(best, t - last);
      last = t;
    }
    if (t - start >= budgetMs) break;
  }
  return Number.isFinite(best) ? best : 0;
}

// ---------------------------------------------------------------------------------------------
// Result JSON
// ---------------------------------------------------------------------------------------------

/** Text of any thrown value, e.g. "RuntimeError: memory access out of bounds". */
export function errorMessage(err) {
  if (err instanceof Error) {
    const name = err.name && err.name !== "Error" ? `${err.name}: ` : "";
    return name + (err.message || String(err));
  }
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/**
 * True when wasm execution was cut off mid-call, leaving the instance in an unknown state: a
 * trap (out-of-bounds access, unreachable, stack overflow, ...), emscripten's ExitStatus (the
 * runtime called exit()), or an error marked `fatal`.
 */
export function isWasmTrap(err) {
  if (typeof WebAssembly !== "undefined" && err instanceof WebAssembly.RuntimeError) return true;
  return err !== null && typeof err === "object" && (err.fatal === true || err.name === "ExitStatus");
}

/** `{"ok":false,"error":...}` (plus `"trap":true` when the session should be ended). */
export function errorResult(err) {
  const out = { ok: false, error: errorMessage(err) };
  if (isWasmTrap(err)) out.trap = true;
  return JSON.stringify(out);
}

/**
 * `{"ok":true,"number":n,"times_s":[...],"warmup_s":[...],"abandoned":bool,"restarts":n,"untimed_ms":ms}` plus, when the
 * warm-up is known, "warmup_number" (calls per warm-up unit), "warmup_calls", "warmup_ms" and
 * "warmup_stop", and "tier" ("optimized") when the page compiled the code with the engine's
 * optimizing tier before timing it (wasm_tune_tier.js).
 */
export function measureResult({ number, timesS, warmupS, abandoned = false, warmupNumber, warmupCalls, warmupMs, warmupStop, untimedMs = 0, restarts = 0, tier = "" }) {
  const out = { ok: true, number, times_s: timesS, warmup_s: warmupS, abandoned, restarts, untimed_ms: untimedMs };
  if (tier) out.tier = tier;
  if (warmupStop !== undefined) {
    Object.assign(out, { warmup_number: warmupNumber, warmup_calls: warmupCalls, warmup_ms: warmupMs, warmup_stop: warmupStop });
  }
  return JSON.stringify(out);
}

/** `{"ok":true}`. */
export function okResult() {
  return JSON.stringify({ ok: true });
}

/** `wasm_tune.info` JSON. */
export function infoResult({ userAgent, crossOriginIsolated, timerResolutionMs, hardwareConcurrency }) {
  return JSON.stringify({
    userAgent: String(userAgent ?? ""),
    crossOriginIsolated: Boolean(crossOriginIsolated),
    timerResolution_ms: timerResolutionMs,
    hardwareConcurrency: Number.isFinite(hardwareConcurrency) ? hardwareConcurrency : null,
    protocol: PROTOCOL_VERSION,
  });
}

// ---------------------------------------------------------------------------------------------
// Deterministic random fill
//
// Each tensor i of a `fill_random(seed, t0, t1, ...)` call gets its own mulberry32 stream with
// state s = (seed mod 2^32 + i * 0x9E3779B9) mod 2^32. One 32-bit output u per scalar value
// (lanes count as values), in memory order:
//   float64:  u * 2^-31 - 1              float32: (u >>> 8) * 2^-23 - 1
//   float16:  (u >>> 21) * 2^-10 - 1     bfloat16: (u >>> 24) * 2^-7 - 1
//   int8..64: (u >>> 28) - 8  in [-8, 8)  uint8..64: u >>> 28  in [0, 16)
//   bool (uint1 or DLPack bool): u >>> 31, one byte each
// Every float value is exactly representable in its type: uniform on a grid in [-1, 1).
// The host reproduces these values (pytest_wasm_tune/measure/page_random.py) and computes its
// reference on them, so the runner's verification never uploads its inputs.
// ---------------------------------------------------------------------------------------------

/** DLPack type codes (DLDataTypeCode). */
export const DTYPE_CODE = Object.freeze({ int: 0, uint: 1, float: 2, bfloat: 4, bool: 6 });

/** mulberry32 generator: returns a function yielding uint32 values. */
export function mulberry32(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Seed mod 2^32 of an integer seed (number or BigInt, may be negative). */
export function seedToU32(seed) {
  if (typeof seed === "bigint") return Number(BigInt.asUintN(32, seed));
  const s = Math.trunc(Number(seed));
  if (!Number.isFinite(s)) throw new Error(`seed must be an integer, got ${seed}`);
  return ((s % 4294967296) + 4294967296) % 4294967296;
}

/** Stream state of tensor `index` for `seed`. */
export function streamSeed(seed, index) {
  return (seedToU32(seed) + Math.imul(index, 0x9e3779b9)) >>> 0;
}

/**
 * Parses "float32", "int8", "uint1", "bool", "bfloat16", "float32x4" into a DLDataType.
 * @returns {{code: number, bits: number, lanes: number}}
 */
export function parseDType(text) {
  if (text === "bool") return { code: DTYPE_CODE.bool, bits: 8, lanes: 1 };
  const m = /^(int|uint|float|bfloat)(\d+)(?:x(\d+))?$/.exec(text);
  if (!m) throw new Error(`unsupported dtype ${text}`);
  return { code: DTYPE_CODE[m[1]], bits: Number(m[2]), lanes: m[3] ? Number(m[3]) : 1 };
}

/** Readable name of a DLDataType, e.g. "float32" or "int8x4". */
export function dtypeName({ code, bits, lanes }) {
  if (code === DTYPE_CODE.bool) return "bool";
  const base = ["int", "uint", "float", "handle", "bfloat"][code] ?? `code${code}`;
  return base + bits + (lanes > 1 ? `x${lanes}` : "");
}

/**
 * How `fill_random` writes one scalar of a dtype.
 * @returns {{bytes: number, value: (u: number) => number, write: (dv: DataView, off: number, v: number) => void}}
 */
export function scalarCodec({ code, bits, lanes }) {
  if (!(lanes >= 1)) throw new Error(`invalid lanes ${lanes}`);
  const name = dtypeName({ code, bits, lanes });
  const isBool = code === DTYPE_CODE.bool || (code === DTYPE_CODE.uint && bits === 1);
  if (isBool) {
    return { bytes: 1, value: (u) => u >>> 31, write: (dv, o, v) => dv.setUint8(o, v) };
  }
  if (code === DTYPE_CODE.float) {
    if (bits === 64) return { bytes: 8, value: (u) => u * 2 ** -31 - 1, write: (dv, o, v) => dv.setFloat64(o, v, true) };
    if (bits === 32) return { bytes: 4, value: (u) => (u >>> 8) * 2 ** -23 - 1, write: (dv, o, v) => dv.setFloat32(o, v, true) };
    if (bits === 16) {
      return { bytes: 2, value: (u) => (u >>> 21) * 2 ** -10 - 1, write: (dv, o, v) => dv.setUint16(o, float16Bits(v), true) };
    }
  }
  if (code === DTYPE_CODE.bfloat && bits === 16) {
    return { bytes: 2, value: (u) => (u >>> 24) * 2 ** -7 - 1, write: (dv, o, v) => dv.setUint16(o, bfloat16Bits(v), true) };
  }
  if (code === DTYPE_CODE.int || code === DTYPE_CODE.uint) {
    const signed = code === DTYPE_CODE.int;
    const value = signed ? (u) => (u >>> 28) - 8 : (u) => u >>> 28;
    const writers = {
      8: (dv, o, v) => (signed ? dv.setInt8(o, v) : dv.setUint8(o, v)),
      16: (dv, o, v) => (signed ? dv.setInt16(o, v, true) : dv.setUint16(o, v, true)),
      32: (dv, o, v) => (signed ? dv.setInt32(o, v, true) : dv.setUint32(o, v, true)),
      64: (dv, o, v) => (signed ? dv.setBigInt64(o, BigInt(v), true) : dv.setBigUint64(o, BigInt(v), true)),
    };
    if (writers[bits]) return { bytes: bits / 8, value, write: writers[bits] };
  }
  throw new Error(`fill_random does not support dtype ${name}`);
}

/**
 * The values `fill_random` produces for `count` scalars of tensor `index` (for tests and for
 * reproducing the data elsewhere).
 * @returns {number[]}
 */
export function randomValues(dtype, count, seed, index = 0) {
  const codec = scalarCodec(dtype);
  const next = mulberry32(streamSeed(seed, index));
  const out = new Array(count);
  for (let i = 0; i < count; ++i) out[i] = codec.value(next());
  return out;
}

/**
 * Fills `bytes` (a whole, compact tensor buffer) with the values of `randomValues`.
 * @param {Uint8Array} bytes destination (e.g. a view into wasm memory), little-endian
 * @param {{code: number, bits: number, lanes: number}} dtype
 * @returns {number} number of scalars written
 */
export function fillRandomBytes(bytes, dtype, seed, index = 0) {
  const codec = scalarCodec(dtype);
  if (bytes.byteLength % codec.bytes !== 0) {
    throw new Error(`buffer of ${bytes.byteLength} bytes is not a whole number of ${dtypeName(dtype)} values`);
  }
  const count = bytes.byteLength / codec.bytes;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const next = mulberry32(streamSeed(seed, index));
  for (let i = 0, off = 0; i < count; ++i, off += codec.bytes) codec.write(dv, off, codec.value(next()));
  return count;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of a number (round to nearest even; overflow to inf). */
export function float16Bits(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000; // subnormal: shift in the implicit bit
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half += 1;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half += 1; // may carry into the exponent: correct
  return half;
}

/** Number encoded by IEEE half bits. */
export function float16Value(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of a number (round to nearest even). */
export function bfloat16Bits(value) {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // nan
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Number encoded by bfloat16 bits. */
export function bfloat16Value(bits) {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

// ---------------------------------------------------------------------------------------------
// Numerical comparison (results are checked in the page: downloading tensors over the RPC
// websocket is ~1 s per MB, uploading the expected values is ~30 ms per MB)
// ---------------------------------------------------------------------------------------------

const TYPED_ARRAYS = {
  "float32": Float32Array,
  "float64": Float64Array,
  "int8": Int8Array,
  "int16": Int16Array,
  "int32": Int32Array,
  "uint8": Uint8Array,
  "uint16": Uint16Array,
  "uint32": Uint32Array,
  "bool": Uint8Array,
};

/**
 * A typed-array view of `count` scalars of `dtype` at `byteOffset` in `buffer`.
 * @returns {ArrayLike<number>}
 */
export function typedView(buffer, byteOffset, count, dtype) {
  const name = dtypeName(dtype);
  const Type = TYPED_ARRAYS[name];
  if (!Type) throw new Error(`compare does not support dtype ${name}`);
  if (byteOffset % Type.BYTES_PER_ELEMENT !== 0) {
    return new Type(buffer.slice(byteOffset, byteOffset + count * Type.BYTES_PER_ELEMENT));
  }
  return new Type(buffer, byteOffset, count);
}

/**
 * numpy.allclose semantics (|a - e| <= atol + rtol * |e|, NaN equals NaN), with the largest
 * absolute and relative differences for the error message.
 */
export function compareValues(actual, expected, rtol, atol) {
  if (actual.length !== expected.length) {
    throw new Error(`compare: ${actual.length} values against ${expected.length}`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  let mismatches = 0;
  for (let i = 0; i < actual.length; ++i) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    const diff = Math.abs(a - e);
    const rel = diff / Math.max(Math.abs(e), Number.MIN_VALUE);
    if (!(diff <= atol + rtol * Math.abs(e))) mismatches += 1;
    if (!(diff <= maxAbs)) maxAbs = diff;
    if (!(rel <= maxRel)) maxRel = rel;
  }
  return { count: actual.length, mismatches, maxAbs, maxRel };
}
