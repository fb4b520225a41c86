// The peer page: TensorFlow.js (wasm backend, XNNPACK) and ONNX Runtime Web (wasm execution
// provider), both on 1 thread with SIMD128, and the wasm SIMD128 peak kernel (peak.wasm), on the
// operators of bench/peers.py. The bench drives it through `window.peerBench.call(method, args)`,
// which resolves to {ok: true, value} or {ok: false, error} and never rejects:
//   init(config)        load both runtimes, build every op, instantiate peak.wasm
//   warmup(peer, op)    warm-up batches until the per-call time stops improving, then a check
//   sample(peer, op)    one timed sample: calls back to back for >= config.minSampleMs
// Peers: "tfjs_wasm", "ort_web", and "peak" (ops peak_<chains>).
import * as core from "./peers_core.js";

const PEAK_M = 0.9999; // acc = acc * m + a converges to a / (1 - m) = 1: no overflow, no denormals
const PEAK_A = 0.0001;

const ops = new Map(); // "peer/op" → {run, check?, prepare?, flopsPerCall?}
let config = null;

const opKey = (peer, op) => `${peer}/${op}`;
const product = (shape) => shape.reduce((a, b) => a * b, 1);

function setStatus(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

function outputSummary(shape, data) {
  let finite = true;
  let maxAbs = 0;
  for (let i = 0; i < data.length; i += 1) {
    const value = data[i];
    if (!Number.isFinite(value)) finite = false;
    else maxAbs = Math.max(maxAbs, Math.abs(value));
  }
  return { shape: Array.from(shape, Number), finite, maxAbs };
}

function timerResolutionMs() {
  let smallest = Infinity;
  for (let i = 0; i < 1000; i += 1) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    smallest = Math.min(smallest, t1 - t0);
  }
  return smallest;
}

// ---- TensorFlow.js -----------------------------------------------------------------------

function tfjsConv(random, spec, activation) {
  const { cin, cout, kernel } = spec;
  const weight = core.normalArray(random, kernel * kernel * cin * cout, Math.sqrt(2 / (kernel * kernel * cin)));
  const folded = core.foldBatchNormHWIO(weight, core.randomBatchNorm(random, cout));
  const filter = tf.tensor4d(folded.weight, [kernel, kernel, cin, cout]);
  const bias = tf.tensor1d(folded.bias);
  // conv + bias add (+ ReLU) as one op, as TF.js runs a converted conv + folded batch norm
  return (x) =>
    tf.fused.conv2d({ x, filter, bias, strides: spec.stride, pad: spec.pad, activation });
}

function tfjsResnet18(random) {
  const topology = core.resnet18Topology();
  const stem = tfjsConv(random, topology.stem, "relu");
  const blocks = topology.blocks.map((block) => ({
    a: tfjsConv(random, block.convs[0], "relu"),
    b: tfjsConv(random, block.convs[1], "linear"),
    downsample: block.downsample ? tfjsConv(random, block.downsample, "linear") : null,
  }));
  const { features, classes } = topology;
  const fcWeight = tf.tensor2d(core.normalArray(random, features * classes, Math.sqrt(1 / features)), [features, classes]);
  const fcBias = tf.tensor1d(core.uniformArray(random, classes, -0.01, 0.01));
  const image = tf.tensor4d(core.uniformArray(random, 224 * 224 * 3), [1, 224, 224, 3]);
  const forward = () =>
    tf.tidy(() => {
      let y = tf.maxPool(stem(image), 3, 2, 1);
      for (const block of blocks) {
        const shortcut = block.downsample ? block.downsample(y) : y;
        y = tf.relu(tf.add(block.b(block.a(y)), shortcut));
      }
      const pooled = tf.mean(y, [1, 2]); // global average pool → [1, 512]
      return tf.add(tf.matMul(pooled, fcWeight), fcBias);
    });
  return { forward, flops: core.topologyFlops(topology) };
}

function tfjsOp(op) {
  const random = core.mulberry32(op.seed);
  let forward;
  let flops = op.flops;
  if (op.kind === "matmul") {
    const n = op.n;
    const a = tf.tensor2d(core.uniformArray(random, n * n), [n, n]);
    const b = tf.tensor2d(core.uniformArray(random, n * n), [n, n]);
    forward = () => tf.matMul(a, b);
  } else if (op.kind === "conv3x3") {
    // NHWC input and HWIO weight: TF.js's native layout (its wasm conv takes no other).
    const { c, s } = op;
    const x = tf.tensor4d(core.uniformArray(random, s * s * c), [1, s, s, c]);
    const w = tf.tensor4d(core.normalArray(random, 9 * c * c, Math.sqrt(2 / (9 * c))), [3, 3, c, c]);
    forward = () => tf.conv2d(x, w, 1, 1);
  } else if (op.kind === "resnet18") {
    ({ forward, flops } = tfjsResnet18(random));
  } else {
    throw new Error(`unknown op kind ${op.kind}`);
  }
  return {
    flopsModel: flops,
    run: () => {
      const y = forward();
      y.dataSync(); // the work is done (and the output read) inside the timed region
      y.dispose();
    },
    check: () => {
      const y = forward();
      const summary = outputSummary(y.shape, y.dataSync());
      y.dispose();
      return summary;
    },
  };
}

async function initTfjs() {
  if (typeof tf === "undefined" || !tf.wasm) throw new Error("the TF.js scripts did not load");
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false); // the single-threaded SIMD build
  tf.wasm.setWasmPaths("/tfjs/");
  tf.wasm.setThreadsCount(1);
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  if (!simd) throw new Error("TF.js: wasm SIMD is not supported here");
  const info = {
    version: tf.version_core,
    backend: tf.getBackend(),
    threads: tf.wasm.getThreadsCount(),
    simd,
    binary: "tfjs-backend-wasm-simd.wasm",
    opErrors: {},
    flops: {},
  };
  for (const op of config.ops) {
    try {
      const built = tfjsOp(op);
      ops.set(opKey("tfjs_wasm", op.name), built);
      info.flops[op.name] = built.flopsModel;
    } catch (error) {
      info.opErrors[op.name] = core.errorText(error);
    }
  }
  return info;
}

// ---- ONNX Runtime Web --------------------------------------------------------------------

async function ortOp(op) {
  const session = await ort.InferenceSession.create(op.ortModel, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const random = core.mulberry32(op.seed + 1);
  const shape = op.ortInput;
  const input = new ort.Tensor("float32", core.uniformArray(random, product(shape)), shape);
  const feeds = { [session.inputNames[0]]: input };
  const outputName = session.outputNames[0];
  const infer = async () => (await session.run(feeds))[outputName];
  return {
    run: async () => {
      const y = await infer();
      y.dispose();
    },
    check: async () => {
      const y = await infer();
      const summary = outputSummary(y.dims, y.data);
      y.dispose();
      return summary;
    },
  };
}

async function initOrt() {
  if (typeof ort === "undefined") throw new Error("the ONNX Runtime Web script did not load");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.logLevel = "error";
  const info = { version: ort.env.versions?.web, threads: 1, executionProviders: ["wasm"], opErrors: {} };
  for (const op of config.ops) {
    try {
      ops.set(opKey("ort_web", op.name), await ortOp(op));
    } catch (error) {
      info.opErrors[op.name] = core.errorText(error);
    }
  }
  return info;
}

// ---- wasm SIMD128 peak -------------------------------------------------------------------

function stubImports(module) {
  const imports = {};
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== "function") throw new Error(`peak.wasm imports a ${kind} (${name}.${field})`);
    imports[name] ??= {};
    imports[name][field] = () => {
      throw new Error(`peak.wasm called its import ${name}.${field}`);
    };
  }
  return imports;
}

function peakOp(kernel, chains) {
  let steps = 0;
  return {
    prepare: () => {
      steps = core.calibrateSteps((n) => kernel(n, PEAK_M, PEAK_A), 1.2 * config.minSampleMs);
    },
    run: () => kernel(steps, PEAK_M, PEAK_A),
    check: () => {
      const value = kernel(steps, PEAK_M, PEAK_A);
      return { steps, value, finite: Number.isFinite(value) };
    },
    flopsPerCall: () => steps * chains * 8, // a mul and an add on 4 lanes per chain and step
  };
}

async function initPeak() {
  const response = await fetch(config.peakUrl);
  if (!response.ok) throw new Error(`GET ${config.peakUrl}: HTTP ${response.status}`);
  const module = await WebAssembly.compile(await response.arrayBuffer());
  const instance = await WebAssembly.instantiate(module, stubImports(module));
  instance.exports._initialize?.();
  const chains = [];
  for (const [name, kernel] of Object.entries(instance.exports)) {
    const match = /^peak_(\d+)$/.exec(name);
    if (!match || typeof kernel !== "function") continue;
    chains.push(Number(match[1]));
    ops.set(opKey("peak", name), peakOp(kernel, Number(match[1])));
  }
  if (!chains.length) throw new Error("peak.wasm exports no peak_<chains> function");
  return { chains: chains.sort((a, b) => a - b) };
}

// ---- protocol ------------------------------------------------------------------------------

function lookup(peer, op) {
  const entry = ops.get(opKey(peer, op));
  if (!entry) throw new Error(`no op ${op} for peer ${peer}`);
  return entry;
}

const methods = {
  async init(cfg) {
    config = cfg;
    setStatus("init");
    const result = {
      userAgent: navigator.userAgent,
      crossOriginIsolated: window.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      timerResolutionMs: timerResolutionMs(),
      peak: await initPeak(),
      peers: {},
    };
    for (const [peer, setup] of [
      ["tfjs_wasm", initTfjs],
      ["ort_web", initOrt],
    ]) {
      try {
        result.peers[peer] = await setup();
      } catch (error) {
        result.peers[peer] = { error: core.errorText(error) };
      }
    }
    setStatus("ready");
    return result;
  },
  async warmup(peer, op) {
    const entry = lookup(peer, op);
    setStatus(`warm-up ${peer} ${op}`);
    await entry.prepare?.();
    const warm = await core.warmUp(entry.run, { batchMs: config.warmupBatchMs });
    return { ...warm, check: entry.check ? await entry.check() : null };
  },
  async sample(peer, op) {
    const entry = lookup(peer, op);
    const batch = await core.timeBatch(entry.run, config.minSampleMs);
    return {
      perCallS: batch.perCallMs / 1e3,
      calls: batch.calls,
      flopsPerCall: entry.flopsPerCall?.() ?? null,
    };
  },
};

window.peerBench = {
  async call(method, args = []) {
    try {
      if (!(method in methods)) throw new Error(`unknown method ${method}`);
      return { ok: true, value: await methods[method](...args) };
    } catch (error) {
      setStatus(`error: ${core.errorText(error)}`);
      return { ok: false, error: core.errorText(error) };
    }
  },
};
setStatus("loaded");
