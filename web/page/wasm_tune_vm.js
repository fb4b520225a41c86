// Whole-model timing in the page: `wasm_tune.measure_vm(number, repeat, warmup, [limits_json,]
// ...inputs)` runs `main` of the Relax VM executable in the loaded module's system library and
// times it with performance.now(), after the adaptive warm-up of core.runMeasurement. Replies with the JSON of core.measureResult / core.errorResult; never rejects
// (a rejected async server function makes tvmjs exit(1), see FIELD_NOTES "tvmjs bug 2").
import * as core from "./wasm_tune_core.js";
import { isKernelFunction, tierUpExports } from "./wasm_tune_tier.js";

const DEVICE_CPU = 1;
const CALIBRATE_MIN_REPEAT_MS = 40; // used when number <= 0
/**
 * Warm-up bounds of a whole model unless the client sends its own: a 50 MB module has
 * thousands of functions for V8 to tier up in the background, which takes seconds.
 */
export const VM_WARMUP_LIMITS = Object.freeze({ maxCalls: 60, maxMs: 20000, tolerance: 0.04, batchMs: 0 });

/** One VM per wasm instance: loading the executable deserializes all constants (~45 MB). */
const vmCache = new WeakMap();

function loadVm(inst) {
  let entry = vmCache.get(inst);
  if (entry) return entry;
  inst.beginScope();
  try {
    const vm = inst.detachFromCurrentScope(inst.createVirtualMachine(inst.cpu()));
    const main = inst.detachFromCurrentScope(vm.getFunction("main"));
    entry = { vm, main };
  } finally {
    inst.endScope();
  }
  vmCache.set(inst, entry);
  return entry;
}

/**
 * A page-owned copy of a tensor argument. Tensors arriving over RPC are views whose getHandle()
 * throws ("tvmjs bug 1"), so they cannot be passed to a packed function; their shape, dtype and
 * data pointer (read by the tvmjs.Tensor constructor from the DLTensor) are valid until the
 * first await, like the views wasm_tune_page.js reads directly.
 */
function ownedCopy(inst, arg, index) {
  if (!(arg instanceof tvmjs.Tensor) || !(arg.dltensor > 0)) {
    throw new Error(`input ${index} is not a tensor (got ${arg === null ? "null" : typeof arg})`);
  }
  if (arg.device.deviceType !== DEVICE_CPU) throw new Error(`input ${index} is not a CPU tensor`);
  const { bits, lanes } = arg.dlDataType;
  const nbytes = (arg.shape.reduce((a, b) => a * b, 1) * bits * lanes) / 8;
  const start = arg.dataPtr + arg.byteOffset;
  // Copy out first: allocating the new tensor may grow (and detach) wasm memory.
  const bytes = new Uint8Array(inst.memory.memory.buffer, start, nbytes).slice();
  inst.beginScope();
  try {
    const owned = inst.detachFromCurrentScope(inst.empty(arg.shape, arg.dtype, inst.cpu()));
    owned.copyFromRawBytes(bytes);
    return owned;
  } finally {
    inst.endScope();
  }
}

function yieldToLoop() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** wasm_tune.measure_vm(number, repeat, warmup, [warmup_limits_json,] ...inputs) */
async function measureVm(inst, number, repeat, warmup, ...rest) {
  const inputs = [];
  try {
    const [given, args] = core.splitWarmupLimits(rest);
    const warmupLimits = given ?? VM_WARMUP_LIMITS;
    args.forEach((arg, i) => inputs.push(ownedCopy(inst, arg, i)));
    const { main } = loadVm(inst);
    const tier = tierUpExports(inst, isKernelFunction);
    const timeBatch = (n) => {
      const start = performance.now();
      for (let i = 0; i < n; ++i) {
        inst.beginScope(); // disposes the returned tensor
        try {
          main(...inputs);
        } finally {
          inst.endScope();
        }
      }
      return performance.now() - start;
    };
    const result = await core.runMeasurement({
      timeBatch,
      yieldToLoop,
      number,
      repeat,
      minRepeatMs: CALIBRATE_MIN_REPEAT_MS,
      warmup,
      warmupLimits,
    });
    const ms = [...result.timesS].sort((a, b) => a - b)[result.timesS.length >> 1] * 1e3;
    const warm = result.warmupS.map((t) => (t * 1e3).toFixed(1)).join(" ");
    console.log(`measure_vm: ${tier ? `kernels on the ${tier} tier, ` : ""}warm-up [${warm}] ms (${result.warmupStop}), number=${result.number} repeat=${repeat} median=${ms.toFixed(2)} ms`);
    return core.measureResult({ ...result, tier });
  } catch (err) {
    console.log(`measure_vm: ${core.errorMessage(err)}`);
    return core.errorResult(err);
  } finally {
    for (const t of inputs) {
      try {
        t.dispose();
      } catch (err) {
        console.log(`measure_vm: releasing an input failed: ${core.errorMessage(err)}`);
      }
    }
  }
}

/** Registers the VM functions on a freshly loaded instance (from the page's onServerLoad). */
export function registerVmFunctions(inst) {
  inst.registerAsyncServerFunc("wasm_tune.measure_vm", (...a) =>
    measureVm(inst, ...a).catch((err) => core.errorResult(err)),
  );
}
