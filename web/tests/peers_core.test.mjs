// Unit tests of the peer page's pure logic (web/peers/peers_core.js): `cd web && npm test`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as core from "../peers/peers_core.js";

/** A fake clock: each `fn` call advances it by the next of `costs` (ms), cycling. */
function fakeTiming(costs) {
  let t = 0;
  let i = 0;
  const fn = () => {
    t += costs[Math.min(i, costs.length - 1)];
    i += 1;
  };
  return { fn, now: () => t, calls: () => i };
}

describe("timeBatch", () => {
  it("calls until the batch lasts minMs and divides by the calls", async () => {
    const clock = fakeTiming([3]);
    const batch = await core.timeBatch(clock.fn, 40, clock.now);
    assert.equal(batch.calls, 14); // 14 × 3 ms = 42 ms >= 40
    assert.equal(batch.totalMs, 42);
    assert.equal(batch.perCallMs, 3);
  });
  it("makes one call when a call alone exceeds minMs", async () => {
    const clock = fakeTiming([90]);
    assert.deepEqual(await core.timeBatch(clock.fn, 40, clock.now), {
      calls: 1,
      totalMs: 90,
      perCallMs: 90,
    });
  });
  it("awaits functions that return promises", async () => {
    let t = 0;
    const fn = () => new Promise((resolve) => setTimeout(() => resolve((t += 25)), 0));
    const batch = await core.timeBatch(fn, 40, () => t);
    assert.equal(batch.calls, 2);
    assert.equal(batch.perCallMs, 25);
  });
});

describe("warmUp", () => {
  it("stops once the per-call time stops improving", async () => {
    // slow first calls, then steady 2 ms: batches of >= 10 ms
    const clock = fakeTiming([50, 20, 8, 2]);
    const warm = await core.warmUp(clock.fn, { batchMs: 10 }, clock.now);
    assert.equal(warm.settled, true);
    assert.equal(warm.bestMs, 2);
    assert.deepEqual(warm.perCallMs.slice(0, 2), [50, 20]);
    assert.deepEqual(warm.perCallMs.slice(-3), [2, 2, 2]); // `patience` batches without a gain
  });
  it("runs at least minBatches and gives up at maxBatches", async () => {
    const steady = fakeTiming([5]);
    const warm = await core.warmUp(steady.fn, { batchMs: 1, minBatches: 5, patience: 1 }, steady.now);
    assert.equal(warm.perCallMs.length, 5);
    let cost = 100;
    const better = () => {
      t += cost;
      cost *= 0.9; // always 10 % faster: never settles
    };
    let t = 0;
    const capped = await core.warmUp(better, { batchMs: 1, maxBatches: 7 }, () => t);
    assert.equal(capped.perCallMs.length, 7);
    assert.equal(capped.settled, false);
  });
});

describe("calibrateSteps", () => {
  it("grows the step count until one run lasts targetMs", () => {
    let t = 0;
    const run = (steps) => {
      t += steps * 1e-4; // 10 000 steps per ms
    };
    const steps = core.calibrateSteps(run, 48, () => t, 1000);
    assert.ok(steps * 1e-4 >= 48, `${steps} steps are too few`);
    assert.ok(steps * 1e-4 < 48 * 1.5, `${steps} steps overshoot`);
  });
});

describe("resnet18Topology", () => {
  const topology = core.resnet18Topology();
  it("is torchvision's ResNet-18 (1.814 G multiply-adds, 20 convs)", () => {
    const convs = core.topologyConvs(topology);
    assert.equal(convs.length, 20);
    assert.equal(topology.blocks.length, 8);
    assert.deepEqual(
      topology.blocks.map((b) => [b.cout, b.stride, b.size]),
      [
        [64, 1, 56], [64, 1, 56], [128, 2, 56], [128, 1, 28],
        [256, 2, 28], [256, 1, 14], [512, 2, 14], [512, 1, 7],
      ],
    );
    assert.deepEqual(
      topology.blocks.filter((b) => b.downsample).map((b) => b.downsample.name),
      ["layer2.0.downsample", "layer3.0.downsample", "layer4.0.downsample"],
    );
    assert.equal(core.topologyFlops(topology), 3628146688);
  });
  it("computes output sizes like PyTorch (floor)", () => {
    assert.equal(core.outSize(224, 7, 2, 3), 112);
    assert.equal(core.outSize(112, 3, 2, 1), 56);
    assert.equal(core.outSize(56, 1, 2, 0), 28);
    assert.equal(core.convFlops({ cin: 64, cout: 64, kernel: 3, stride: 1, pad: 1, size: 56 }), 2 * 64 * 64 * 9 * 56 * 56);
  });
});

describe("foldBatchNormHWIO", () => {
  it("scales each output channel (the last axis) and shifts the bias", () => {
    const bn = {
      gamma: Float32Array.of(2, 1),
      beta: Float32Array.of(0.5, -1),
      mean: Float32Array.of(1, 0),
      variance: Float32Array.of(3, 0),
      eps: 1,
    };
    // 2 positions × 2 output channels: [w(p0,c0), w(p0,c1), w(p1,c0), w(p1,c1)]
    const { weight, bias } = core.foldBatchNormHWIO(Float32Array.of(1, 2, 3, 4), bn);
    assert.deepEqual(Array.from(weight), [1, 2, 3, 4]); // scales 2/sqrt(4) = 1 and 1/sqrt(1) = 1
    assert.deepEqual(Array.from(bias), [-0.5, -1]);
    const halved = core.foldBatchNormHWIO(Float32Array.of(1, 2), { ...bn, gamma: Float32Array.of(1, 0.5) });
    assert.deepEqual(Array.from(halved.weight), [0.5, 1]);
  });
  it("rejects a weight whose size is not a multiple of the channels", () => {
    assert.throws(() => core.foldBatchNormHWIO(new Float32Array(3), core.randomBatchNorm(Math.random, 2)), /last axis/);
  });
});

describe("random streams", () => {
  it("are deterministic per seed and in range", () => {
    const a = core.uniformArray(core.mulberry32(7), 1000);
    const b = core.uniformArray(core.mulberry32(7), 1000);
    assert.deepEqual(a, b);
    assert.ok(a.every((v) => v >= -1 && v < 1));
    assert.notDeepEqual(a, core.uniformArray(core.mulberry32(8), 1000));
  });
  it("normalArray has about the requested standard deviation", () => {
    const x = core.normalArray(core.mulberry32(1), 20001, 0.5);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    assert.ok(Math.abs(mean) < 0.02 && Math.abs(std - 0.5) < 0.02, `mean ${mean}, std ${std}`);
  });
});

describe("errorText", () => {
  it("turns errors, message objects and strings into one line", () => {
    assert.equal(core.errorText(new TypeError("bad")), "TypeError: bad");
    assert.equal(core.errorText({ message: "no wasm" }), "no wasm");
    assert.equal(core.errorText("plain"), "plain");
    assert.equal(core.errorText({ code: 3 }), '{"code":3}');
  });
});
