// pytest-wasm-tune measurement page: a tvmjs RPC server that registers with the RPC proxy under
// `?key=`, reconnects when its websocket closes, loads staged candidate modules and serves the
// `wasm_tune.*` timing functions. Protocol: web/README.md. Expects the classic scripts
// /tvmjs_runtime.wasi.js (global `EmccWASI`) and /tvmjs.bundle.js (global `tvmjs`) loaded first.
import * as core from "./wasm_tune_core.js";
import { tierUpExports } from "./wasm_tune_tier.js";
import { registerVmFunctions } from "./wasm_tune_vm.js";

const STATES = ["connecting", "ready", "session", "disconnected"];
const MAX_LOG_LINES = 400;
const CONNECT_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------------------------
// Status and log
// ---------------------------------------------------------------------------------------------

const statusEl = document.getElementById("status");
const logEl = document.getElementById("log");

function log(message) {
  const line = `${(performance.now() / 1000).toFixed(3).padStart(9)} ${message}`;
  console.log(line);
  if (!logEl) return;
  logEl.append(line + "\n");
  while (logEl.childNodes.length > MAX_LOG_LINES) logEl.removeChild(logEl.firstChild);
  logEl.scrollTop = logEl.scrollHeight;
}

function setState(state) {
  if (!STATES.includes(state)) throw new Error(`unknown state ${state}`);
  if (window.wasmTuneState === state) return;
  window.wasmTuneState = state;
  if (statusEl) statusEl.textContent = state;
  document.documentElement.dataset.wasmTuneState = state;
  log(`state: ${state}`);
}

function fatal(message) {
  window.wasmTuneError = message;
  log(`FATAL: ${message}`);
  setState("disconnected");
}

// ---------------------------------------------------------------------------------------------
// Wasm memory access. Layouts are those of wasm32, as read by tvmjs (runtime.ts, Tensor ctor).
// ---------------------------------------------------------------------------------------------

// DLTensor: data*, device {i32 type, i32 id}, i32 ndim, dtype {u8 code, u8 bits, u16 lanes},
// i64* shape, i64* strides, (pad), u64 byte_offset.
const DLT = Object.freeze({ data: 0, devType: 4, devId: 8, ndim: 12, code: 16, bits: 17, lanes: 18, shape: 20, strides: 24, byteOffset: 32, size: 40 });
// TVMFFIAny: i32 type_index, i32 padding, 8-byte value.
const ANY_SIZE = 16;
const TYPE_NONE = 0;
const TYPE_DLTENSOR_PTR = 7; // kTVMFFIDLTensorPtr
const TYPE_STATIC_OBJECT_BEGIN = 64; // values at or above hold an object reference
const DEVICE_CPU = 1;

function memView(inst) {
  // Re-created per use: the buffer is replaced whenever wasm memory grows.
  return new DataView(inst.memory.memory.buffer);
}

/** The DLTensor* behind a tensor argument that arrived through RPC. */
function dltensorPointer(arg, index) {
  // A tensor argument arrives as a tvmjs.Tensor view (kTVMFFIDLTensorPtr): its object handle is
  // 0, so getHandle()/getDataPtr() throw, but its (TS-private) `dltensor` field holds the pointer.
  if (!(arg instanceof tvmjs.Tensor) || !(arg.dltensor > 0)) {
    throw new Error(`argument ${index} is not a tensor (got ${arg === null ? "null" : typeof arg})`);
  }
  return arg.dltensor;
}

/** Reads a DLTensor struct from wasm memory into a plain object. */
function readDLTensor(inst, ptr) {
  const dv = memView(inst);
  const ndim = dv.getInt32(ptr + DLT.ndim, true);
  const shapePtr = dv.getUint32(ptr + DLT.shape, true);
  const stridesPtr = dv.getUint32(ptr + DLT.strides, true);
  const shape = [];
  const strides = stridesPtr ? [] : null;
  for (let i = 0; i < ndim; ++i) {
    shape.push(Number(dv.getBigInt64(shapePtr + 8 * i, true)));
    if (strides) strides.push(Number(dv.getBigInt64(stridesPtr + 8 * i, true)));
  }
  return {
    data: dv.getUint32(ptr + DLT.data, true),
    deviceType: dv.getInt32(ptr + DLT.devType, true),
    deviceId: dv.getInt32(ptr + DLT.devId, true),
    ndim,
    dtype: { code: dv.getUint8(ptr + DLT.code), bits: dv.getUint8(ptr + DLT.bits), lanes: dv.getUint16(ptr + DLT.lanes, true) },
    shape,
    strides,
    byteOffset: Number(dv.getBigUint64(ptr + DLT.byteOffset, true)),
  };
}

function describeTensor(t) {
  return `${core.dtypeName(t.dtype)}[${t.shape.join(",")}]`;
}

/** Tensor args as plain descriptors, checked to be CPU tensors. */
function tensorArgs(inst, args) {
  return args.map((arg, i) => {
    const t = readDLTensor(inst, dltensorPointer(arg, i));
    if (t.deviceType !== DEVICE_CPU) throw new Error(`argument ${i} is not a CPU tensor (device type ${t.deviceType})`);
    return t;
  });
}

/**
 * Copies tensor descriptors into wasm memory this page owns (TVMWasmAllocSpace), plus a packed
 * TVMFFIAny argument array of kTVMFFIDLTensorPtr entries and a result slot. Unlike the RPC views
 * these stay valid across `await`, and they can be passed to TVMFFIFunctionCall directly.
 */
function packTensorArgs(inst, tensors) {
  const n = tensors.length;
  let size = ANY_SIZE * (n + 1) + DLT.size * n;
  for (const t of tensors) size += 8 * t.ndim * (t.strides ? 2 : 1);
  const base = inst.exports.TVMWasmAllocSpace(size);
  if (!base) throw new Error(`cannot allocate ${size} bytes of wasm memory`);
  const dv = memView(inst);
  new Uint8Array(dv.buffer, base, size).fill(0);
  const retPtr = base;
  const argsPtr = base + ANY_SIZE;
  let next = argsPtr + ANY_SIZE * n;
  tensors.forEach((t, i) => {
    const ptr = next;
    next += DLT.size;
    const shapePtr = next;
    next += 8 * t.ndim;
    let stridesPtr = 0;
    if (t.strides) {
      stridesPtr = next;
      next += 8 * t.ndim;
    }
    for (let d = 0; d < t.ndim; ++d) {
      dv.setBigInt64(shapePtr + 8 * d, BigInt(t.shape[d]), true);
      if (t.strides) dv.setBigInt64(stridesPtr + 8 * d, BigInt(t.strides[d]), true);
    }
    dv.setUint32(ptr + DLT.data, t.data, true);
    dv.setInt32(ptr + DLT.devType, t.deviceType, true);
    dv.setInt32(ptr + DLT.devId, t.deviceId, true);
    dv.setInt32(ptr + DLT.ndim, t.ndim, true);
    dv.setUint8(ptr + DLT.code, t.dtype.code);
    dv.setUint8(ptr + DLT.bits, t.dtype.bits);
    dv.setUint16(ptr + DLT.lanes, t.dtype.lanes, true);
    dv.setUint32(ptr + DLT.shape, shapePtr, true);
    dv.setUint32(ptr + DLT.strides, stridesPtr, true);
    dv.setBigUint64(ptr + DLT.byteOffset, BigInt(t.byteOffset), true);
    // The argument entry, as Instance.setPackedArguments writes a view Tensor.
    const arg = argsPtr + ANY_SIZE * i;
    dv.setInt32(arg, TYPE_DLTENSOR_PTR, true);
    dv.setUint32(arg + 8, ptr, true);
  });
  let freed = false;
  return {
    argsPtr,
    retPtr,
    count: n,
    free() {
      if (!freed) inst.exports.TVMWasmFreeSpace(base);
      freed = true;
    },
  };
}

/**
 * Looks up `funcName` in the system library and binds it to packed tensor args.
 * Everything here is synchronous: it runs before the RPC argument views go out of scope.
 */
function prepareKernel(inst, funcName, tensorArgsIn) {
  if (typeof funcName !== "string" || !funcName) throw new Error("func_name must be a non-empty string");
  const tensors = tensorArgs(inst, tensorArgsIn);
  // Module and function are scope-attached by tvmjs: detach them so they outlive this call.
  const mod = inst.detachFromCurrentScope(inst.systemLib());
  let func;
  try {
    func = mod.getFunction(funcName, true);
  } catch (err) {
    mod.dispose();
    throw err;
  }
  if (typeof func !== "function") {
    mod.dispose();
    throw new Error(`function ${funcName} not found in the system library of the loaded module`);
  }
  inst.detachFromCurrentScope(func);
  let packed;
  try {
    packed = packTensorArgs(inst, tensors);
  } catch (err) {
    func.dispose();
    mod.dispose();
    throw err;
  }

  const callRaw = inst.exports.TVMFFIFunctionCall;
  const handle = func._tvmPackedCell.getHandle();
  const { argsPtr, retPtr, count } = packed;
  const lastError = () => inst.memory.loadCString(inst.exports.TVMFFIWasmGetLastError());
  const failure = () => new Error(`${funcName} failed: ${lastError()}`);
  // Some runtime builds turn a raised error into exit(1) (emscripten throws an ExitStatus); the
  // message is still in the error slot.
  const exitFailure = (exit) => {
    let detail = "";
    try {
      detail = `: ${lastError()}`;
    } catch {
      // no message available
    }
    const err = new Error(`${funcName} failed${detail} (the wasm runtime called exit(${exit.status}))`);
    err.fatal = true;
    return err;
  };
  const releaseResult = () => {
    const dv = memView(inst);
    if (dv.getInt32(retPtr, true) >= TYPE_STATIC_OBJECT_BEGIN) {
      inst.exports.TVMFFIObjectDecRef(dv.getUint32(retPtr + 8, true));
    }
    dv.setInt32(retPtr, TYPE_NONE, true);
    dv.setUint32(retPtr + 8, 0, true);
  };

  return {
    describe: () => `${funcName}(${tensors.map(describeTensor).join(", ")})`,
    /** Runs `n` calls back to back; returns their wall time in ms. Throws on a kernel error or trap. */
    timeBatch(n) {
      releaseResult();
      let start;
      let elapsed;
      try {
        start = performance.now();
        for (let i = 0; i < n; ++i) {
          if (callRaw(handle, argsPtr, count, retPtr) !== 0) throw failure();
        }
        elapsed = performance.now() - start;
      } catch (err) {
        throw err && err.name === "ExitStatus" ? exitFailure(err) : err;
      }
      releaseResult();
      return elapsed;
    },
    release() {
      // After a wasm trap the runtime may be inconsistent: never let cleanup mask the error.
      try {
        packed.free();
        func.dispose();
        mod.dispose();
      } catch (err) {
        log(`releasing ${funcName} failed: ${core.errorMessage(err)}`);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The wasm_tune.* RPC functions
// ---------------------------------------------------------------------------------------------

let timerResolutionMs = 0;

// A message to ourselves gives the event loop a turn (websocket frames, WebDriver scripts) without
// setTimeout's 4 ms clamp on nested timers, which a warm-up of many short units would pay each time.
const loopTurn = new MessageChannel();
const loopWaiters = [];
loopTurn.port1.onmessage = () => loopWaiters.shift()?.();

function yieldToLoop() {
  return new Promise((resolve) => {
    loopWaiters.push(resolve);
    loopTurn.port2.postMessage(null);
  });
}

/**
 * Compiles a kernel's code with V8's optimizing tier before it is timed: its packed entry and
 * its compute function, which the link exports (toolchain/link.py, export_kernel_functions).
 */
function forceOptimizedTier(inst, funcName) {
  return tierUpExports(inst, (name) => name === `__tvm_ffi_${funcName}` || name === `${funcName}_compute_`);
}

/** wasm_tune.measure(func_name, number, repeat, min_repeat_ms, warmup, abandon_above_ms, [warmup_limits_json,] ...tensors) */
async function measure(inst, funcName, number, repeat, minRepeatMs, warmup, abandonAboveMs, ...rest) {
  let kernel;
  let warmupLimits;
  try {
    let tensors;
    [warmupLimits, tensors] = core.splitWarmupLimits(rest);
    kernel = prepareKernel(inst, funcName, tensors);
  } catch (err) {
    log(`measure: ${core.errorMessage(err)}`);
    return core.errorResult(err);
  }
  try {
    const tier = forceOptimizedTier(inst, funcName);
    const result = await core.runMeasurement({
      timeBatch: kernel.timeBatch,
      yieldToLoop,
      number,
      repeat,
      minRepeatMs,
      warmup,
      abandonAboveMs,
      warmupLimits,
    });
    const medianUs = [...result.timesS].sort((a, b) => a - b)[result.timesS.length >> 1] * 1e6;
    const rounds = result.calibrationMs.length ? ` (${result.calibrationMs.length} calibration batches)` : "";
    const restarts = result.restarts ? ` (repeats restarted ${result.restarts}x: the code got faster)` : "";
    const warm = `warm-up ${result.warmupCalls} calls in ${result.warmupS.length} units, ${result.warmupMs.toFixed(1)} ms (${result.warmupStop})`;
    log(`measure ${kernel.describe()}: ${tier ? `${tier} tier, ` : ""}${warm}, number=${result.number}${rounds}${restarts} repeat=${repeat} median=${medianUs.toFixed(3)} us`);
    return core.measureResult({ ...result, tier });
  } catch (err) {
    log(`measure ${kernel.describe()}: ${core.errorMessage(err)}` + (core.isWasmTrap(err) ? " (wasm execution cut off: end this session)" : ""));
    return core.errorResult(err);
  } finally {
    kernel.release();
  }
}

/** Bytes of a compact CPU tensor inside wasm memory (throws for strided or out-of-range). */
function tensorExtent(inst, t, index) {
  let count = 1;
  for (const dim of t.shape) {
    if (!(dim >= 0)) throw new Error(`tensor ${index} has an invalid shape [${t.shape}]`);
    count *= dim;
  }
  if (t.strides) {
    let expected = 1;
    for (let d = t.ndim - 1; d >= 0; --d) {
      if (t.shape[d] !== 1 && t.strides[d] !== expected) throw new Error(`tensor ${index} is not compact`);
      expected *= t.shape[d];
    }
  }
  const nbytes = count * t.dtype.lanes * core.scalarCodec(t.dtype).bytes;
  const start = t.data + t.byteOffset;
  if (start + nbytes > inst.memory.memory.buffer.byteLength) {
    throw new Error(`tensor ${index} (${describeTensor(t)}) lies outside wasm memory`);
  }
  return { start, nbytes, count: count * t.dtype.lanes };
}

/** wasm_tune.fill_random(seed, ...tensors) */
async function fillRandom(inst, seed, ...args) {
  try {
    const tensors = tensorArgs(inst, args);
    tensors.forEach((t, index) => {
      const { start, nbytes } = tensorExtent(inst, t, index);
      core.fillRandomBytes(new Uint8Array(inst.memory.memory.buffer, start, nbytes), t.dtype, seed, index);
    });
    return core.okResult();
  } catch (err) {
    log(`fill_random: ${core.errorMessage(err)}`);
    return core.errorResult(err);
  }
}

/**
 * Tensor arguments `(...firsts, ...seconds)` as pairs of the same dtype, each with its extent in
 * wasm memory (`what` names the caller in errors).
 */
function tensorPairs(inst, args, what) {
  if (args.length % 2 !== 0) throw new Error(`${what} needs pairs of tensors, got ${args.length}`);
  const tensors = tensorArgs(inst, args);
  const half = tensors.length / 2;
  return tensors.slice(0, half).map((first, i) => {
    const second = tensors[half + i];
    if (core.dtypeName(first.dtype) !== core.dtypeName(second.dtype)) {
      throw new Error(`${what}, tensor ${i}: ${describeTensor(first)} against ${describeTensor(second)}`);
    }
    return { first, second, a: tensorExtent(inst, first, i), b: tensorExtent(inst, second, half + i) };
  });
}

/**
 * wasm_tune.compare(rtol, atol, ...actual, ...expected): numpy.allclose of each actual tensor
 * against its expected twin, in the page. Returns {"ok":true,"results":[{count, mismatches,
 * maxAbs, maxRel}, ...]}.
 */
async function compare(inst, rtol, atol, ...args) {
  try {
    const buffer = inst.memory.memory.buffer;
    const results = tensorPairs(inst, args, "compare").map(({ first, second, a, b }) =>
      core.compareValues(
        core.typedView(buffer, a.start, a.count, first.dtype),
        core.typedView(buffer, b.start, b.count, second.dtype),
        Number(rtol),
        Number(atol),
      ),
    );
    return JSON.stringify({ ok: true, results });
  } catch (err) {
    log(`compare: ${core.errorMessage(err)}`);
    return core.errorResult(err);
  }
}

/**
 * wasm_tune.copy(...destinations, ...sources): copies each source tensor into its destination
 * twin (same dtype and size) inside wasm memory, so that the host uploads a tensor once per
 * session and restores it from there. Returns {"ok":true}.
 */
async function copy(inst, ...args) {
  try {
    const bytes = new Uint8Array(inst.memory.memory.buffer);
    tensorPairs(inst, args, "copy").forEach(({ first, second, a, b }, i) => {
      if (a.nbytes !== b.nbytes) {
        throw new Error(`tensor ${i}: cannot copy ${describeTensor(second)} into ${describeTensor(first)}`);
      }
      bytes.copyWithin(a.start, b.start, b.start + b.nbytes);
    });
    return core.okResult();
  } catch (err) {
    log(`copy: ${core.errorMessage(err)}`);
    return core.errorResult(err);
  }
}

/** wasm_tune.info() */
async function info() {
  return core.infoResult({
    userAgent: navigator.userAgent,
    crossOriginIsolated: window.crossOriginIsolated === true,
    timerResolutionMs,
    hardwareConcurrency: navigator.hardwareConcurrency,
  });
}

/** Async server functions must never reject (tvmjs would exit(1)): errors become values. */
function neverRejects(fn) {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args)).catch((err) => core.errorResult(err));
    } catch (err) {
      return Promise.resolve(core.errorResult(err));
    }
  };
}

/**
 * Ends the session of `inst` from the page's side once its reply is out: remote objects that the
 * client still holds (a failed test's tensors, say) cannot keep the page from its next session.
 */
function endSession(inst) {
  const server = window.wasmTuneSupervisor?.server;
  if (server && server.inst === inst) {
    // the reply is queued on pendingSend by tvmjs after this promise settles: close after it
    setTimeout(() => Promise.resolve(server.pendingSend).then(() => closeSocket(server)), 0);
  }
  return core.okResult();
}

/** RPCServer's asyncOnServerLoad: runs once per session, on the freshly instantiated module. */
async function onServerLoad(inst) {
  inst.registerAsyncServerFunc("wasm_tune.end_session", neverRejects(() => endSession(inst)));
  inst.registerAsyncServerFunc("wasm_tune.measure", neverRejects((...a) => measure(inst, ...a)));
  inst.registerAsyncServerFunc("wasm_tune.fill_random", neverRejects((...a) => fillRandom(inst, ...a)));
  inst.registerAsyncServerFunc("wasm_tune.compare", neverRejects((...a) => compare(inst, ...a)));
  inst.registerAsyncServerFunc("wasm_tune.copy", neverRejects((...a) => copy(inst, ...a)));
  inst.registerAsyncServerFunc("wasm_tune.info", neverRejects(info));
  registerVmFunctions(inst);
}

// ---------------------------------------------------------------------------------------------
// Staged modules
// ---------------------------------------------------------------------------------------------

async function fetchStaged(ref) {
  const started = performance.now();
  const response = await fetch(ref.path);
  if (!response.ok) throw new Error(`GET ${ref.path} failed: HTTP ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!core.isWasmBinary(bytes)) throw new Error(`${ref.path} is not a wasm module`);
  if (globalThis.crypto && crypto.subtle) {
    const digest = core.toHex(await crypto.subtle.digest("SHA-256", bytes));
    if (digest !== ref.sha256) throw new Error(`${ref.path} has sha256 ${digest}`);
  }
  log(`staged module ${ref.sha256.slice(0, 12)}: ${(bytes.length / 1048576).toFixed(2)} MiB in ${(performance.now() - started).toFixed(0)} ms`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// tvmjs RPCServer patches (TS-private methods are ordinary prototype methods in the bundle)
// ---------------------------------------------------------------------------------------------

function closeSocket(server) {
  try {
    server.socket.close();
  } catch (err) {
    log(`closing the websocket failed: ${core.errorMessage(err)}`);
  }
}

/** Fails a session init: logs, answers the client's init call with an RPC error, closes. */
function refuseSession(server, message) {
  server.log(`session init failed: ${message}`);
  try {
    if (server.socket.readyState === WebSocket.OPEN) server.socket.send(core.encodeRpcException(`wasm-tune page: ${message}`));
  } catch (err) {
    log(`cannot send the error to the client: ${core.errorMessage(err)}`);
  }
  closeSocket(server);
}

function patchRPCServer(RPCServer, hooks) {
  const proto = RPCServer.prototype;
  for (const name of ["onInitServer", "onClose", "handleInitHeader"]) {
    if (typeof proto[name] !== "function") throw new Error(`tvmjs.RPCServer has no method ${name}: unsupported tvmjs`);
  }
  const initServer = proto.onInitServer;
  const handleInitHeader = proto.handleInitHeader;

  // The proxy answers the header only once a client is paired with this key. An error reply
  // (key in use, no matching client) throws inside tvmjs' message handler: close instead.
  proto.handleInitHeader = function () {
    try {
      handleInitHeader.call(this);
    } catch (err) {
      this.log(`proxy refused the connection: ${core.errorMessage(err)}`);
      closeSocket(this);
      return;
    }
    hooks.onPaired(this);
  };

  // Session init: replace a stage reference by the staged module's bytes.
  proto.onInitServer = function (args, header, body) {
    const start = (sessionArgs) => {
      try {
        initServer.call(this, sessionArgs, header, body);
      } catch (err) {
        refuseSession(this, core.errorMessage(err));
      }
    };
    let ref;
    try {
      ref = core.parseStageRef(args[1]);
    } catch (err) {
      refuseSession(this, core.errorMessage(err));
      return;
    }
    if (ref === null) {
      start(args);
      return;
    }
    // No bytes are requested from the socket meanwhile (pendingBytes is 0), so incoming data
    // just queues until the original init runs.
    fetchStaged(ref).then(
      (bytes) => {
        if (this.socket.readyState === WebSocket.OPEN) start([args[0], bytes, ...args.slice(2)]);
      },
      (err) => refuseSession(this, `cannot load staged module ${ref.path}: ${core.errorMessage(err)}`),
    );
  };

  // tvmjs' own onClose disposes the instance and reconnects once, and only from a clean state.
  // Keep the cleanup; the supervisor reconnects in every case.
  proto.onClose = function (event) {
    try {
      if (this.inst !== undefined) {
        for (const obj of this.globalObjects) obj.dispose();
        this.globalObjects = [];
        this.inst.dispose();
        this.inst = undefined;
      }
    } catch (err) {
      this.log(`cleanup after close failed: ${core.errorMessage(err)}`);
    }
    hooks.onClosed(this, event);
  };
}

// ---------------------------------------------------------------------------------------------
// Connection supervisor
// ---------------------------------------------------------------------------------------------

class Supervisor {
  constructor(key, proxyUrl) {
    this.key = key;
    this.proxyUrl = proxyUrl;
    this.server = null;
    this.failures = 0; // consecutive connections that ended without serving a client
  }

  connect() {
    setState("connecting");
    const makeWasi = () => (typeof EmccWASI === "function" ? new EmccWASI() : tvmjs.createPolyfillWASI());
    let server;
    try {
      server = new tvmjs.RPCServer(this.proxyUrl, this.key, makeWasi, log, "", "cpu", undefined, onServerLoad);
    } catch (err) {
      log(`cannot open ${this.proxyUrl}: ${core.errorMessage(err)}`);
      this.retry(false);
      return;
    }
    server.wasmTune = { paired: false };
    this.server = server;
    const socket = server.socket;
    socket.addEventListener("open", () => {
      if (this.server === server) setState("ready");
    });
    setTimeout(() => {
      if (socket.readyState === WebSocket.CONNECTING) {
        log(`no connection to ${this.proxyUrl} after ${CONNECT_TIMEOUT_MS} ms`);
        socket.close();
      }
    }, CONNECT_TIMEOUT_MS);
  }

  onPaired(server) {
    if (server !== this.server) return;
    server.wasmTune.paired = true;
    setState("session");
  }

  onClosed(server, event) {
    if (server !== this.server) return;
    this.server = null;
    log(`websocket closed (code ${event.code}${event.reason ? ", " + event.reason : ""})`);
    this.retry(server.wasmTune.paired);
  }

  retry(servedSession) {
    this.failures = servedSession ? 0 : this.failures + 1;
    setState("disconnected");
    const delay = core.backoffDelayMs(this.failures);
    if (delay > 0) log(`reconnecting in ${delay} ms`);
    setTimeout(() => this.connect(), delay);
  }

  /** An init that failed asynchronously inside tvmjs (e.g. instantiation) leaves the session hung. */
  onUnhandledRejection(reason) {
    const server = this.server;
    if (server && server.wasmTune.paired && server.serverRecvData === undefined) {
      refuseSession(server, `tvmjs could not start the session: ${core.errorMessage(reason)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

/**
 * tvmjs probes for a WebGPU adapter at the start of every session; the page measures CPU code
 * only, and in a headless browser the probe finds nothing after a round trip to the GPU
 * process. Hiding `navigator.gpu` makes tvmjs skip it ("Cannot find WebGPU device").
 */
function hideWebGpu() {
  if (typeof Navigator === "undefined" || !("gpu" in Navigator.prototype)) return;
  Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined, configurable: true });
}

function main() {
  setState("connecting");
  const coiEl = document.getElementById("coi");
  if (coiEl) coiEl.textContent = String(window.crossOriginIsolated === true);
  let params;
  try {
    params = core.parsePageParams(location.search);
  } catch (err) {
    fatal(core.errorMessage(err));
    return;
  }
  const keyEl = document.getElementById("key");
  if (keyEl) keyEl.textContent = params.key;
  if (typeof globalThis.tvmjs !== "object" || typeof tvmjs.RPCServer !== "function") {
    fatal("tvmjs is not loaded (/tvmjs.bundle.js)");
    return;
  }
  if (typeof EmccWASI !== "function") log("warning: EmccWASI is not loaded (/tvmjs_runtime.wasi.js); using the bundle's copy");
  hideWebGpu();
  timerResolutionMs = core.measureTimerResolution(() => performance.now());
  log(`crossOriginIsolated=${window.crossOriginIsolated === true} timer resolution=${(timerResolutionMs * 1000).toFixed(1)} us`);

  const supervisor = new Supervisor(params.key, params.proxyUrl);
  try {
    patchRPCServer(tvmjs.RPCServer, supervisor);
  } catch (err) {
    fatal(core.errorMessage(err));
    return;
  }
  window.addEventListener("unhandledrejection", (event) => {
    log(`unhandled rejection: ${core.errorMessage(event.reason)}`);
    supervisor.onUnhandledRejection(event.reason);
  });
  window.wasmTuneSupervisor = supervisor;
  supervisor.connect();
}

main();
