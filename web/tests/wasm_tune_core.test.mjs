// Unit tests of the page's pure logic: `cd web && npm test` (node's built-in test runner).
import assert from "node:assert/strict";
import { describe, it, test } from "node:test";

import * as core from "../page/wasm_tune_core.js";

const F32 = core.parseDType("float32");
const F64 = core.parseDType("float64");
const F16 = core.parseDType("float16");
const BF16 = core.parseDType("bfloat16");

describe("parsePageParams", () => {
  it("reads key and proxy", () => {
    const p = core.parsePageParams("?key=wasm-1&proxy=ws%3A%2F%2F127.0.0.1%3A9000%2Fws");
    assert.deepEqual(p, { key: "wasm-1", proxyUrl: "ws://127.0.0.1:9000/ws" });
  });
  it("rejects a missing key, a missing proxy and a non-websocket proxy", () => {
    assert.throws(() => core.parsePageParams("?proxy=ws://h/ws"), /key/);
    assert.throws(() => core.parsePageParams("?key=k"), /proxy/);
    assert.throws(() => core.parsePageParams("?key=k&proxy=http://h/ws"), /ws:\/\//);
    assert.throws(() => core.parsePageParams("?key=k&proxy=nonsense"), /not a URL/);
  });
});

describe("parseStageRef", () => {
  const sha = "ab".repeat(32);
  const bytes = (s) => new TextEncoder().encode(s);

  it("accepts the prefix plus a sha256 digest, as bytes or string", () => {
    const expected = { sha256: sha, path: `/stage/${sha}.wasm` };
    assert.deepEqual(core.parseStageRef(bytes(core.STAGE_PREFIX + sha)), expected);
    assert.deepEqual(core.parseStageRef(core.STAGE_PREFIX + sha), expected);
    assert.deepEqual(core.parseStageRef(bytes(core.STAGE_PREFIX + sha).buffer), expected);
  });
  it("lower-cases the digest", () => {
    assert.equal(core.parseStageRef(core.STAGE_PREFIX + sha.toUpperCase()).sha256, sha);
  });
  it("returns null for real wasm bytes and other data", () => {
    const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    assert.equal(core.parseStageRef(wasm), null);
    assert.equal(core.parseStageRef(new Uint8Array(0)), null);
    assert.equal(core.parseStageRef("rpc.WasmSession"), null);
    assert.equal(core.parseStageRef(undefined), null);
  });
  it("rejects a malformed digest clearly", () => {
    for (const bad of ["", "abc", sha.slice(1), sha + "0", "zz" + sha.slice(2), "../" + sha.slice(3)]) {
      assert.throws(() => core.parseStageRef(bytes(core.STAGE_PREFIX + bad)), /64 hex/);
    }
    assert.throws(() => core.parseStageRef(bytes(core.STAGE_PREFIX + "a".repeat(1000))), /too long/);
  });
  it("recognises wasm binaries and formats digests", () => {
    assert.ok(core.isWasmBinary(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])));
    assert.ok(!core.isWasmBinary(bytes(core.STAGE_PREFIX + sha)));
    assert.equal(core.toHex(new Uint8Array([0, 15, 255])), "000fff");
  });
});

describe("backoffDelayMs", () => {
  it("reconnects at once after a served session, then backs off 0.2 s to 2 s", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 20].map((n) => core.backoffDelayMs(n));
    assert.deepEqual(delays, [0, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });
  it("accepts a custom schedule", () => {
    assert.equal(core.backoffDelayMs(3, { initialMs: 10, maxMs: 1000, factor: 3 }), 90);
  });
});

describe("calibration", () => {
  it("calibrateNumber reaches the minimum repeat duration", () => {
    assert.equal(core.calibrateNumber(0.3, 40), 134);
    assert.equal(core.calibrateNumber(50, 40), 1);
    assert.equal(core.calibrateNumber(0.5, 0), 1);
    assert.equal(core.calibrateNumber(1e-9, 40, 1000), 1000);
    assert.equal(core.calibrateNumber(0, 40, 777), 777);
    for (const perCall of [0.001, 0.013, 0.7, 3.3, 39.9]) {
      const n = core.calibrateNumber(perCall, 40);
      assert.ok(n * perCall >= 40 && (n - 1) * perCall < 40, `perCall=${perCall} n=${n}`);
    }
  });
  it("nextCalibrationNumber scales to the target with margin, always grows, stays capped", () => {
    assert.equal(core.nextCalibrationNumber(2, 0, 40), 16);
    assert.equal(core.nextCalibrationNumber(8, 5, 40), 71);
    assert.equal(core.nextCalibrationNumber(100, 39, 40), 113);
    assert.equal(core.nextCalibrationNumber(10, 1000, 40), 11);
    assert.equal(core.nextCalibrationNumber(500, 0, 40, 1000), 1000);
  });
});

/** A kernel of fixed cost seen through a clock quantised to `tickMs`. */
function fakeKernel(perCallMs, tickMs, { warmupExtraMs = [] } = {}) {
  const calls = [];
  let firstCalls = [...warmupExtraMs];
  return {
    calls,
    timeBatch(n) {
      calls.push(n);
      let ms = n * perCallMs;
      if (firstCalls.length) ms += firstCalls.shift();
      return Math.floor(ms / tickMs) * tickMs;
    },
  };
}

describe("runMeasurement", () => {
  const yieldToLoop = async () => {};
  const base = { yieldToLoop, repeat: 3, minRepeatMs: 40, warmup: 3 };

  it("warms up until stable, calibrates number from it and keeps the check batch as the first repeat", async () => {
    const k = fakeKernel(0.5, 0.005, { warmupExtraMs: [3, 1] });
    const r = await core.runMeasurement({ ...base, timeBatch: k.timeBatch, number: 0 });
    assert.equal(r.number, 80);
    assert.equal(r.timesS.length, 3);
    for (const t of r.timesS) assert.ok(Math.abs(t - 0.0005) < 1e-9);
    // 3 single calls (3.5, 1.5, 0.5 ms; the last two too short to count), a batch sized to
    // ~5 ms, another that agrees with it: stable
    assert.deepEqual(k.calls, [1, 1, 1, 11, 10, 80, 80, 80]);
    assert.deepEqual(r.warmupNumber, [1, 1, 1, 11, 10]);
    assert.ok(r.warmupS[0] > r.warmupS[2]);
    assert.equal(r.warmupStop, "stable");
    assert.equal(r.warmupCalls, 24);
    assert.deepEqual(r.calibrationMs, []);
  });

  it("recovers when the warm-up call was far slower than steady state", async () => {
    // First call 0.2 ms (lazy compilation), then 0.3 us per call: the guess of 200 calls is
    // topped up until the calls together last 40 ms; they are the first repeat.
    const k = fakeKernel(0.0003, 0.005, { warmupExtraMs: [0.2] });
    const r = await core.runMeasurement({ ...base, timeBatch: k.timeBatch, number: 0, warmup: 1 });
    assert.ok(r.number * 0.0003 >= 40 * core.REPEAT_FLOOR_SLACK, `number=${r.number}`);
    assert.ok(r.number * 0.0003 < 40 * 1.3, `number=${r.number}`);
    assert.deepEqual(r.calibrationMs, []);
    assert.equal(r.untimedMs, 0);
    for (const t of r.timesS) assert.ok(Math.abs(t - 3e-7) / 3e-7 < 0.01);
  });

  it("tops a short first guess up into the first repeat instead of running it again", async () => {
    // a slow first call (26 ms, then 12 ms per call) ends the warm-up at its 25 ms bound: the
    // guess of 2 calls lasts 24 ms, 2 more bring the first repeat to 48 ms over 4 calls
    const k = fakeKernel(12, 0.005, { warmupExtraMs: [14] });
    const r = await core.runMeasurement({
      ...base, timeBatch: k.timeBatch, number: 0, warmup: 1, warmupLimits: { maxMs: 25 },
    });
    assert.equal(r.warmupStop, "time");
    assert.deepEqual(k.calls, [1, 2, 2, 4, 4]);
    assert.equal(r.number, 4);
    assert.deepEqual(r.timesS, [0.012, 0.012, 0.012]);
    assert.equal(r.untimedMs, 0);
  });

  it("keeps a first calibration batch a little short of the floor as a repeat", async () => {
    // the warm-up saw 1 ms per call, the calls then ran at 0.98 ms: 40 calls last 39.2 ms,
    // which the repeats' floor slack accepts, so nothing is run twice
    let first = true;
    const timeBatch = (n) => (first ? ((first = false), 1) : n * 0.98);
    const r = await core.runMeasurement({ ...base, timeBatch, number: 0, warmup: 1, warmupLimits: { maxCalls: 1 } });
    assert.equal(r.number, 40);
    assert.deepEqual(r.calibrationMs, []);
    assert.equal(r.untimedMs, 0);
    assert.equal(r.timesS.length, 3);
  });

  it("counts repeats dropped by a restart as untimed", async () => {
    // warm-up at 1 ms per call; from the second batch on the code runs at 0.5 ms
    const perCall = [1, 1, 0.5];
    let batches = 0;
    const timeBatch = (n) => n * perCall[Math.min(batches++, perCall.length - 1)];
    const r = await core.runMeasurement({ ...base, timeBatch, number: 0, warmup: 1, warmupLimits: { maxCalls: 1 } });
    assert.equal(r.restarts, 1);
    assert.equal(r.number, 80);
    // kept first batch (40 calls at 1 ms) and the short repeat (40 calls at 0.5 ms) were dropped
    assert.equal(r.untimedMs, 40 + 20);
  });

  it("calibrates a call below the timer resolution", async () => {
    const k = fakeKernel(0.0004, 0.1);
    const r = await core.runMeasurement({ ...base, timeBatch: k.timeBatch, number: -1, warmup: 1 });
    assert.ok(r.number * 0.0004 >= 40 * 0.99, `number=${r.number}`);
    for (const t of r.timesS) assert.ok(Math.abs(t - 4e-7) / 4e-7 < 0.01);
  });

  it("keeps an explicit number and runs at least one warm-up call", async () => {
    const k = fakeKernel(1, 0.005);
    const r = await core.runMeasurement({ ...base, timeBatch: k.timeBatch, number: 7, repeat: 2, warmup: 0 });
    assert.equal(r.number, 7);
    assert.deepEqual(k.calls, [1, 6, 5, 7, 7]);
    assert.deepEqual(r.calibrationMs, []);
  });

  it("uses number 1 without a minimum repeat duration", async () => {
    const k = fakeKernel(0.01, 0.005);
    const r = await core.runMeasurement({ ...base, timeBatch: k.timeBatch, number: 0, minRepeatMs: 0, warmup: 1 });
    assert.equal(r.number, 1);
    // the single call (0.01 ms) is below half a 5 ms warm-up batch: sized up, then confirmed
    assert.deepEqual(k.calls, [1, 550, 500, 1, 1, 1]);
  });

  it("caps number and the calibration rounds", async () => {
    const k = fakeKernel(0.001, 0.005);
    const r = await core.runMeasurement({
      ...base, timeBatch: k.timeBatch, number: 0, repeat: 1, minRepeatMs: 1e6, warmup: 1, maxNumber: 5000,
    });
    assert.equal(r.number, 5000);
    const frozen = { timeBatch: (n) => (n === 1 ? 1 : 0) }; // a clock that stops moving
    const r2 = await core.runMeasurement({ ...base, ...frozen, number: 0, repeat: 1, warmup: 1 });
    assert.equal(r2.number, core.MAX_NUMBER);
    // a clock that moves 1 us per batch whatever it runs: the batches never add up to the
    // floor, so after MAX_CALIBRATION_ROUNDS they are calibration only
    const stuck = { timeBatch: (n) => (n === 1 ? 1 : 0.001) };
    const r3 = await core.runMeasurement({ ...base, ...stuck, number: 0, repeat: 1, warmup: 1, maxNumber: 1e300 });
    assert.equal(r3.calibrationMs.length, core.MAX_CALIBRATION_ROUNDS);
    // the calibration batches and the repeats that restarts dropped (each also 1 us short)
    assert.equal(r3.restarts, core.MAX_REPEAT_RESTARTS);
    const untimedBatches = core.MAX_CALIBRATION_ROUNDS + core.MAX_REPEAT_RESTARTS;
    assert.ok(Math.abs(r3.untimedMs - 0.001 * untimedBatches) < 1e-12, `${r3.untimedMs}`);
  });

  it("yields to the event loop after every call batch", async () => {
    let yields = 0;
    const k = fakeKernel(1, 0.005);
    await core.runMeasurement({
      ...base, timeBatch: k.timeBatch, yieldToLoop: async () => void yields++, number: 2, repeat: 4, warmup: 2,
    });
    assert.equal(yields, 8); // 2 warm-up calls, 2 warm-up batches, 4 repeats
  });

  it("rejects invalid arguments and propagates kernel errors", async () => {
    const k = fakeKernel(1, 0.005);
    const ok = { ...base, timeBatch: k.timeBatch, number: 1, repeat: 1, minRepeatMs: 1, warmup: 1 };
    await assert.rejects(core.runMeasurement({ ...ok, repeat: 0 }), /repeat/);
    await assert.rejects(core.runMeasurement({ ...ok, warmup: 1.5 }), /warmup/);
    await assert.rejects(core.runMeasurement({ ...ok, number: NaN }), /number/);
    const failing = { ...ok, timeBatch: () => { throw new Error("kernel failed"); } };
    await assert.rejects(core.runMeasurement(failing), /kernel failed/);
  });
});

describe("adaptive warm-up", () => {
  const yieldToLoop = async () => {};

  it("warmupLimits fills defaults, parses JSON and rejects unknown or bad limits", () => {
    assert.deepEqual(core.warmupLimits(undefined), { ...core.WARMUP_LIMITS });
    assert.deepEqual(core.warmupLimits('{"maxMs": 5000}'), { ...core.WARMUP_LIMITS, maxMs: 5000 });
    assert.deepEqual(core.warmupLimits({ maxCalls: 3 }).maxCalls, 3);
    assert.throws(() => core.warmupLimits('{"maxSeconds": 1}'), /unknown warm-up limit maxSeconds/);
    assert.throws(() => core.warmupLimits({ maxCalls: 1.5 }), /integer/);
    assert.throws(() => core.warmupLimits({ tolerance: -1 }), />= 0/);
    assert.throws(() => core.warmupLimits("[1]"), /must be an object/);
  });

  it("splitWarmupLimits takes a leading JSON string only", () => {
    const tensor = { shape: [2] };
    assert.deepEqual(core.splitWarmupLimits([tensor]), [undefined, [tensor]]);
    const [limits, rest] = core.splitWarmupLimits(['{"maxCalls": 9}', tensor]);
    assert.equal(limits.maxCalls, 9);
    assert.deepEqual(rest, [tensor]);
  });

  it("warmupSettled needs the last two units within tolerance of the fastest", () => {
    assert.equal(core.warmupSettled([1], 0.04), false);
    assert.equal(core.warmupSettled([3, 1, 1.03], 0.04), true);
    assert.equal(core.warmupSettled([3, 1.2, 1], 0.04), false); // still getting faster
    assert.equal(core.warmupSettled([1, 2, 1.01], 0.04), false); // one outlier among the last two
  });

  it("stops at the call or time bound when the code keeps getting faster", async () => {
    let perCall = 10;
    const tiering = (n) => { const ms = n * perCall; perCall *= 0.8; return ms; };
    const byCalls = await core.warmUp({ timeBatch: tiering, yieldToLoop, limits: { ...core.WARMUP_LIMITS, maxCalls: 4, maxMs: 1e9 } });
    assert.equal(byCalls.stop, "calls");
    assert.equal(byCalls.calls, 4);
    perCall = 10;
    const byTime = await core.warmUp({ timeBatch: tiering, yieldToLoop, limits: { ...core.WARMUP_LIMITS, maxMs: 30 } });
    assert.equal(byTime.stop, "time");
    assert.ok(byTime.totalMs >= 30 && byTime.totalMs < 30 + 10);
  });

  it("sees through a tier-up: times only after the optimized code took over", async () => {
    // Baseline code at 2 ms per call for the first 4 calls, optimized code at 0.5 ms after.
    // (A baseline that stays flat for longer than two warm-up units would pass for stable:
    // Chromium runs with --no-liftoff so that V8 has no baseline tier at all.)
    let done = 0;
    const timeBatch = (n) => {
      let ms = 0;
      for (let i = 0; i < n; ++i, ++done) ms += done < 4 ? 2 : 0.5;
      return ms;
    };
    const r = await core.runMeasurement({ timeBatch, yieldToLoop, number: 0, repeat: 3, minRepeatMs: 40, warmup: 1 });
    assert.equal(r.warmupStop, "stable");
    assert.deepEqual(r.warmupNumber, [1, 3, 3, 11, 10]);
    for (const t of r.timesS) assert.equal(t, 0.0005);
  });

  it("restarts the repeats when the code gets faster after a warm-up that looked stable", async () => {
    // 32 ms per call for 3 calls (the warm-up sees two equal units: "stable"), then 16 ms:
    // number 1 was calibrated for 32 ms, so a 16 ms repeat is far below the 20 ms floor.
    let done = 0;
    const timeBatch = (n) => {
      let ms = 0;
      for (let i = 0; i < n; ++i, ++done) ms += done < 3 ? 32 : 16;
      return ms;
    };
    const r = await core.runMeasurement({ timeBatch, yieldToLoop, number: 0, repeat: 3, minRepeatMs: 20, warmup: 1 });
    assert.equal(r.warmupStop, "stable");
    assert.equal(r.restarts, 1);
    assert.equal(r.number, 2);
    assert.deepEqual(r.timesS, [0.016, 0.016, 0.016]);
    for (const t of r.timesS) assert.ok(r.number * t * 1000 >= 20);
  });

  it("restarts a bounded number of times and never with a fixed number", async () => {
    let perCall = 32;
    const speedingUp = (n) => { const ms = n * perCall; perCall /= 2; return ms; };
    const r = await core.runMeasurement({ timeBatch: speedingUp, yieldToLoop, number: 0, repeat: 3, minRepeatMs: 20, warmup: 1, warmupLimits: { maxCalls: 1 } });
    assert.equal(r.restarts, core.MAX_REPEAT_RESTARTS);
    assert.equal(r.timesS.length, 3);
    perCall = 32;
    const fixed = await core.runMeasurement({ timeBatch: speedingUp, yieldToLoop, number: 1, repeat: 3, minRepeatMs: 20, warmup: 1, warmupLimits: { maxCalls: 1 } });
    assert.equal(fixed.restarts, 0);
  });

  it("does not restart for jitter within the slack", async () => {
    const jitter = [1, 1, 0.93, 1.02, 0.95, 1];
    let i = 0;
    const timeBatch = (n) => n * 10 * jitter[i++ % jitter.length];
    const r = await core.runMeasurement({ timeBatch, yieldToLoop, number: 0, repeat: 3, minRepeatMs: 20, warmup: 1 });
    assert.equal(r.restarts, 0);
  });

  it("a slow first call does not keep the later units short", async () => {
    // 3 ms for the first call (compilation), then 0.6 us per call on a 5 us clock
    let done = 0;
    const timeBatch = (n) => {
      const ms = (done === 0 ? 3 : 0) + (done === 0 ? n - 1 : n) * 0.0006;
      done += n;
      return Math.floor(ms / 0.005) * 0.005;
    };
    const r = await core.warmUp({ timeBatch, yieldToLoop });
    assert.ok(r.unitsMs.length <= 6, `${r.unitsMs.length} units: ${r.unitsNumber}`);
    assert.equal(r.stop, "calls"); // 10000 calls of 0.6 us come before two settled 5 ms units
  });

  it("a whole model warms up call by call (batchMs 0)", async () => {
    const times = [300, 120, 100, 101];
    const r = await core.warmUp({
      timeBatch: (n) => { assert.equal(n, 1); return times.shift() ?? 100; }, yieldToLoop,
      limits: { maxCalls: 60, maxMs: 20000, tolerance: 0.04, batchMs: 0 },
    });
    assert.deepEqual(r.unitsMs, [300, 120, 100, 101]);
    assert.equal(r.bestMs, 100);
    assert.equal(r.stop, "stable");
  });
});

describe("measureTimerResolution", () => {
  it("finds the smallest non-zero step of a quantised clock", () => {
    let t = 0;
    const now = () => Math.floor((t += 0.0013) / 0.005) * 0.005;
    assert.ok(Math.abs(core.measureTimerResolution(now) - 0.005) < 1e-9);
  });
  it("returns 0 for a clock that never moves", () => {
    assert.equal(core.measureTimerResolution(() => 5, { maxSamples: 1000 }), 0);
  });
});

describe("result JSON", () => {
  it("shapes measure, ok, error and info results", () => {
    assert.deepEqual(JSON.parse(core.measureResult({ number: 3, timesS: [1e-3], warmupS: [2e-3] })), {
      ok: true, number: 3, times_s: [1e-3], warmup_s: [2e-3], abandoned: false, restarts: 0, untimed_ms: 0,
    });
    const warmed = { number: 3, timesS: [1e-3], warmupS: [2e-3], warmupNumber: [1], warmupCalls: 1, warmupMs: 2, warmupStop: "time", untimedMs: 7.5, restarts: 2 };
    assert.deepEqual(JSON.parse(core.measureResult(warmed)), {
      ok: true, number: 3, times_s: [1e-3], warmup_s: [2e-3], abandoned: false, restarts: 2, untimed_ms: 7.5,
      warmup_number: [1], warmup_calls: 1, warmup_ms: 2, warmup_stop: "time",
    });
    assert.deepEqual(JSON.parse(core.okResult()), { ok: true });
    assert.deepEqual(JSON.parse(core.errorResult(new Error("boom"))), { ok: false, error: "boom" });
    assert.deepEqual(JSON.parse(core.errorResult(new TypeError("bad"))), { ok: false, error: "TypeError: bad" });
    assert.deepEqual(JSON.parse(core.errorResult("plain")), { ok: false, error: "plain" });
    const trap = new WebAssembly.RuntimeError("memory access out of bounds");
    assert.deepEqual(JSON.parse(core.errorResult(trap)), {
      ok: false, error: "RuntimeError: memory access out of bounds", trap: true,
    });
    const info = JSON.parse(core.infoResult({
      userAgent: "UA", crossOriginIsolated: true, timerResolutionMs: 0.005, hardwareConcurrency: 2,
    }));
    assert.deepEqual(info, {
      userAgent: "UA", crossOriginIsolated: true, timerResolution_ms: 0.005, hardwareConcurrency: 2,
      protocol: core.PROTOCOL_VERSION,
    });
  });
  it("flags emscripten exits and fatal errors like traps", () => {
    const exit = { name: "ExitStatus", message: "Program terminated with exit(1)", status: 1 };
    assert.equal(JSON.parse(core.errorResult(exit)).trap, true);
    const fatal = Object.assign(new Error("f failed"), { fatal: true });
    assert.deepEqual(JSON.parse(core.errorResult(fatal)), { ok: false, error: "f failed", trap: true });
    assert.equal(core.isWasmTrap(null), false);
    assert.equal(core.isWasmTrap(new Error("x")), false);
  });
  it("reports a real wasm trap as a trap", () => {
    // (module (func (export "f") unreachable))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 5, 1, 3, 0, 0, 11,
    ]);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f;
    let caught;
    try { f(); } catch (err) { caught = err; }
    const out = JSON.parse(core.errorResult(caught));
    assert.equal(out.trap, true);
    assert.match(out.error, /^RuntimeError: unreachable/);
  });
});

describe("random generators", () => {
  it("mulberry32 matches reference outputs (also reproduced in Python)", () => {
    const next = core.mulberry32(core.streamSeed(42, 1));
    assert.deepEqual([next(), next(), next()], [2048288538, 2939398911, 110972453]);
    assert.equal(core.streamSeed(-1, 3), 3668340010);
    assert.equal(core.streamSeed(2n ** 40n + 5n, 0), 5);
    assert.equal(core.streamSeed(2 ** 32 + 7, 0), 7);
  });
  it("is deterministic per seed and index, distinct across them", () => {
    assert.deepEqual(core.randomValues(F32, 64, 7, 0), core.randomValues(F32, 64, 7, 0));
    assert.notDeepEqual(core.randomValues(F32, 64, 7, 0), core.randomValues(F32, 64, 7, 1));
    assert.notDeepEqual(core.randomValues(F32, 64, 7, 0), core.randomValues(F32, 64, 8, 0));
    assert.deepEqual(core.randomValues(F32, 5, 42, 0), [
      0.20220744609832764, -0.10341894626617432, 0.7049314975738525, 0.33946800231933594, -0.6503722667694092,
    ]);
  });
  it("floats are uniform in [-1, 1) and exact in their type", () => {
    for (const [dtype, roundtrip] of [
      [F64, (v) => v],
      [F32, Math.fround],
      [F16, (v) => core.float16Value(core.float16Bits(v))],
      [BF16, (v) => core.bfloat16Value(core.bfloat16Bits(v))],
    ]) {
      const vals = core.randomValues(dtype, 20000, 3, 2);
      let sum = 0;
      for (const v of vals) {
        assert.ok(v >= -1 && v < 1, `${core.dtypeName(dtype)} ${v}`);
        assert.equal(roundtrip(v), v);
        sum += v;
      }
      assert.ok(Math.abs(sum / vals.length) < 0.03, `${core.dtypeName(dtype)} mean ${sum / vals.length}`);
      assert.ok(Math.min(...vals) < -0.99 && Math.max(...vals) > 0.99);
    }
  });
  it("integers stay in small ranges, bools in {0, 1}", () => {
    for (const name of ["int8", "int16", "int32", "int64"]) {
      const vals = core.randomValues(core.parseDType(name), 4000, 1);
      assert.equal(Math.min(...vals), -8);
      assert.equal(Math.max(...vals), 7);
      assert.ok(vals.every(Number.isInteger));
    }
    for (const name of ["uint8", "uint16", "uint32", "uint64"]) {
      const vals = core.randomValues(core.parseDType(name), 4000, 1);
      assert.equal(Math.min(...vals), 0);
      assert.equal(Math.max(...vals), 15);
    }
    for (const name of ["bool", "uint1"]) {
      assert.deepEqual([...new Set(core.randomValues(core.parseDType(name), 1000, 1))].sort(), [0, 1]);
    }
  });
  it("fillRandomBytes writes randomValues little-endian", () => {
    const cases = [
      ["float32", (b) => Array.from(new Float32Array(b.buffer))],
      ["float64", (b) => Array.from(new Float64Array(b.buffer))],
      ["int8", (b) => Array.from(new Int8Array(b.buffer))],
      ["int32", (b) => Array.from(new Int32Array(b.buffer))],
      ["uint16", (b) => Array.from(new Uint16Array(b.buffer))],
      ["int64", (b) => Array.from(new BigInt64Array(b.buffer), Number)],
      ["float16", (b) => Array.from(new Uint16Array(b.buffer), core.float16Value)],
      ["bfloat16", (b) => Array.from(new Uint16Array(b.buffer), core.bfloat16Value)],
      ["bool", (b) => Array.from(b)],
      ["float32x4", (b) => Array.from(new Float32Array(b.buffer))],
    ];
    for (const [name, decode] of cases) {
      const dtype = core.parseDType(name);
      const count = 37 * dtype.lanes;
      const bytes = new Uint8Array(count * core.scalarCodec(dtype).bytes);
      assert.equal(core.fillRandomBytes(bytes, dtype, 99, 4), count);
      assert.deepEqual(decode(bytes), core.randomValues(dtype, count, 99, 4), name);
    }
  });
  it("fills through a view with an offset into a larger buffer", () => {
    const buf = new Uint8Array(64).fill(0xee);
    core.fillRandomBytes(buf.subarray(8, 24), F32, 5);
    assert.deepEqual(Array.from(buf.subarray(0, 8)), new Array(8).fill(0xee));
    assert.deepEqual(Array.from(buf.subarray(24)), new Array(40).fill(0xee));
    assert.deepEqual(Array.from(new Float32Array(buf.buffer, 8, 4)), core.randomValues(F32, 4, 5));
  });
  it("rejects unsupported dtypes and ragged buffers", () => {
    assert.throws(() => core.scalarCodec(core.parseDType("float8")), /does not support/);
    assert.throws(() => core.scalarCodec({ code: 3, bits: 64, lanes: 1 }), /does not support/);
    assert.throws(() => core.parseDType("complex64"), /unsupported dtype/);
    assert.throws(() => core.fillRandomBytes(new Uint8Array(6), F32, 1), /whole number/);
  });
  it("float16 and bfloat16 conversions round to nearest even", () => {
    assert.equal(core.float16Bits(1), 0x3c00);
    assert.equal(core.float16Bits(-2), 0xc000);
    assert.equal(core.float16Bits(65504), 0x7bff);
    assert.equal(core.float16Bits(65520), 0x7c00);
    assert.equal(core.float16Bits(2 ** -24), 0x0001);
    assert.equal(core.float16Bits(2 ** -25), 0x0000);
    assert.equal(core.float16Bits(1 + 2 ** -11), 0x3c00);
    assert.equal(core.float16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.ok(Number.isNaN(core.float16Value(core.float16Bits(NaN))));
    assert.equal(core.bfloat16Bits(1), 0x3f80);
    assert.equal(core.bfloat16Bits(-0.5), 0xbf00);
    assert.equal(core.bfloat16Value(0x3f80), 1);
  });
});

describe("encodeRpcException", () => {
  it("encodes a kException packet with one raw-string argument", () => {
    const packet = core.encodeRpcException("bad é");
    const dv = new DataView(packet.buffer);
    const text = new TextEncoder().encode("bad é");
    assert.equal(packet.length, 28 + text.length);
    assert.equal(dv.getBigUint64(0, true), BigInt(20 + text.length));
    assert.equal(dv.getInt32(8, true), 5);
    assert.equal(dv.getInt32(12, true), 1);
    assert.equal(dv.getInt32(16, true), 8);
    assert.equal(dv.getBigUint64(20, true), BigInt(text.length));
    assert.deepEqual(packet.subarray(28), text);
  });
});

test("compareValues follows numpy.allclose", () => {
  const ok = core.compareValues([1, 2, NaN], [1.0005, 2, NaN], 1e-3, 0);
  assert.equal(ok.mismatches, 0);
  assert.ok(Math.abs(ok.maxAbs - 0.0005) < 1e-12);
  const bad = core.compareValues([1, 5], [1, 2], 1e-3, 1e-3);
  assert.equal(bad.mismatches, 1);
  assert.equal(bad.maxAbs, 3);
  assert.equal(bad.maxRel, 1.5);
  assert.equal(core.compareValues([NaN], [1], 0, 0).mismatches, 1);
  assert.throws(() => core.compareValues([1], [1, 2], 0, 0), /1 values against 2/);
});

test("typedView reads little-endian scalars of the dtype", () => {
  const buffer = new Float32Array([0.5, -2, 3]).buffer;
  const view = core.typedView(buffer, 4, 2, { code: 2, bits: 32, lanes: 1 });
  assert.deepEqual(Array.from(view), [-2, 3]);
  assert.throws(() => core.typedView(buffer, 0, 1, { code: 2, bits: 16, lanes: 1 }), /float16/);
});

test("a candidate far slower than the best is timed by its warm-up call only", async () => {
  const calls = [];
  const timeBatch = (n) => { calls.push(n); return 50 * n; };
  const r = await core.runMeasurement({
    timeBatch, yieldToLoop: async () => {}, number: 0, repeat: 3, minRepeatMs: 40, warmup: 1, abandonAboveMs: 20,
  });
  assert.deepEqual(calls, [1]);
  assert.equal(r.abandoned, true);
  assert.deepEqual(r.timesS, [0.05]);
  const kept = await core.runMeasurement({
    timeBatch, yieldToLoop: async () => {}, number: 0, repeat: 2, minRepeatMs: 40, warmup: 1, abandonAboveMs: 100,
  });
  assert.equal(kept.timesS.length, 2);
  assert.ok(!kept.abandoned);
});
