// Pure logic of the peer page (no DOM, no tf/ort globals), tested by web/tests/peers_core.test.mjs:
// the timing loops, the ResNet-18 topology and batch-norm folding, a seeded random stream.

/** Calls `fn` back to back until at least `minMs` have passed; `fn` may return a promise. */
export async function timeBatch(fn, minMs, now = () => performance.now()) {
  const start = now();
  let calls = 0;
  let elapsed = 0;
  do {
    const pending = fn();
    if (pending && typeof pending.then === "function") await pending;
    calls += 1;
    elapsed = now() - start;
  } while (elapsed < minMs);
  return { calls, totalMs: elapsed, perCallMs: elapsed / calls };
}

/**
 * Warm-up: batches of >= `batchMs` until the per-call time stops improving, i.e. `patience`
 * batches in a row without a gain of more than `tolerance` over the best so far (and at least
 * `minBatches` batches); gives up after `maxBatches` batches or `budgetMs`.
 */
export async function warmUp(fn, options = {}, now = () => performance.now()) {
  const {
    minBatches = 3,
    patience = 3,
    tolerance = 0.02,
    batchMs = 10,
    maxBatches = 60,
    budgetMs = 30000,
  } = options;
  const perCallMs = [];
  let best = Infinity;
  let stale = 0;
  const start = now();
  while (perCallMs.length < maxBatches) {
    const batch = await timeBatch(fn, batchMs, now);
    perCallMs.push(batch.perCallMs);
    if (batch.perCallMs < best * (1 - tolerance)) stale = 0;
    else stale += 1;
    best = Math.min(best, batch.perCallMs);
    if (perCallMs.length >= minBatches && stale >= patience) {
      return { perCallMs, bestMs: best, settled: true };
    }
    if (now() - start > budgetMs) break;
  }
  return { perCallMs, bestMs: best, settled: false };
}

/** Steps for one call of `run(steps)` to last about `targetMs` (it is timed by `now`). */
export function calibrateSteps(run, targetMs, now = () => performance.now(), first = 1 << 14) {
  let steps = first;
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const start = now();
    run(steps);
    const ms = now() - start;
    if (ms >= targetMs) return steps;
    const factor = ms > 0 ? Math.min(16, (1.2 * targetMs) / ms) : 16;
    steps = Math.ceil(steps * Math.max(factor, 1.1));
  }
  throw new Error(`calibrateSteps: ${steps} steps still take less than ${targetMs} ms`);
}

/** Output size of a convolution or pooling window along one axis. */
export function outSize(size, kernel, stride, pad) {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Flops of one convolution (multiply and add counted apart), `size` = input height = width. */
export function convFlops({ cin, cout, kernel, stride, pad, size }) {
  const out = outSize(size, kernel, stride, pad);
  return 2 * cin * cout * kernel * kernel * out * out;
}

/**
 * torchvision's ResNet-18 for 3×224×224 (batch norm folded into each conv): the stem conv,
 * then the BasicBlocks, each {name, cin, cout, stride, size (input), convs: [a, b],
 * downsample: 1×1 conv or null}. Convs are {name, cin, cout, kernel, stride, pad, size}.
 */
export function resnet18Topology() {
  const stem = { name: "conv1", cin: 3, cout: 64, kernel: 7, stride: 2, pad: 3, size: 224 };
  const blocks = [];
  let cin = 64;
  let size = outSize(outSize(224, 7, 2, 3), 3, 2, 1); // after the stem and its 3×3/2 max pool
  [64, 128, 256, 512].forEach((cout, stage) => {
    for (let index = 0; index < 2; index += 1) {
      const stride = stage > 0 && index === 0 ? 2 : 1;
      const name = `layer${stage + 1}.${index}`;
      const a = { name: `${name}.conv1`, cin, cout, kernel: 3, stride, pad: 1, size };
      const outHW = outSize(size, 3, stride, 1);
      const b = { name: `${name}.conv2`, cin: cout, cout, kernel: 3, stride: 1, pad: 1, size: outHW };
      const downsample =
        stride !== 1 || cin !== cout
          ? { name: `${name}.downsample`, cin, cout, kernel: 1, stride, pad: 0, size }
          : null;
      blocks.push({ name, cin, cout, stride, size, convs: [a, b], downsample });
      cin = cout;
      size = outHW;
    }
  });
  return { stem, blocks, features: cin, classes: 1000 };
}

/** Every conv of the topology, in order (stem, then per block a, b, downsample). */
export function topologyConvs(topology) {
  const convs = [topology.stem];
  for (const block of topology.blocks) {
    convs.push(...block.convs);
    if (block.downsample) convs.push(block.downsample);
  }
  return convs;
}

/** Flops of one forward pass: convs and the classifier (pooling, adds and ReLUs left out). */
export function topologyFlops(topology) {
  const convs = topologyConvs(topology).reduce((sum, conv) => sum + convFlops(conv), 0);
  return convs + 2 * topology.features * topology.classes;
}

/** mulberry32: a seeded stream of floats uniform in [0, 1). */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` floats, uniform in [low, high), from `random`. */
export function uniformArray(random, count, low = -1, high = 1) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 1) out[i] = low + (high - low) * random();
  return out;
}

/** `count` floats, normal with standard deviation `std` (Box–Muller), from `random`. */
export function normalArray(random, count, std = 1) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Random batch-norm statistics for `channels` (gamma, beta, mean, variance, eps). */
export function randomBatchNorm(random, channels) {
  return {
    gamma: uniformArray(random, channels, 0.5, 1.0),
    beta: uniformArray(random, channels, -0.1, 0.1),
    mean: uniformArray(random, channels, -0.1, 0.1),
    variance: uniformArray(random, channels, 0.5, 1.5),
    eps: 1e-5,
  };
}

/**
 * Folds batch norm into a conv whose weight has the output channel as its last axis (TF.js's
 * HWIO): w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps).
 */
export function foldBatchNormHWIO(weight, bn) {
  const channels = bn.gamma.length;
  if (weight.length % channels !== 0) {
    throw new Error(`weight of ${weight.length} values has no last axis of ${channels}`);
  }
  const scale = new Float32Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c += 1) {
    scale[c] = bn.gamma[c] / Math.sqrt(bn.variance[c] + bn.eps);
    bias[c] = bn.beta[c] - bn.mean[c] * scale[c];
  }
  const folded = new Float32Array(weight.length);
  for (let i = 0; i < weight.length; i += 1) folded[i] = weight[i] * scale[i % channels];
  return { weight: folded, bias };
}

/** A thrown value as one line of text (TF.js rejects with plain objects, ORT with strings). */
export function errorText(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (error && typeof error.message === "string") return error.message;
  try {
    return typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    return String(error);
  }
}
