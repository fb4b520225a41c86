// Kernels timed on V8's optimizing tier: when the browser was started with
// `--js-flags=--allow-natives-syntax` (defaults.CHROMIUM_FLAGS), the page compiles a kernel's
// functions with TurboFan before its warm-up, so no reading depends on when V8's own tier-up
// lands, while the rest of the module starts on the Liftoff baseline (a new module opens in
// ~0.3 s instead of ~1.6 s: web/README.md, "Warm code").

/**
 * V8's test natives: `tierUp(f)` compiles an exported wasm function with TurboFan now and
 * `optimized(f)` says whether it runs TurboFan code. Null in every other engine or setup (the
 * `%` syntax does not parse there).
 */
const v8Natives = (() => {
  try {
    return {
      tierUp: new Function("f", "%WasmTierUpFunction(f)"),
      optimized: new Function("f", "return %IsTurboFanFunction(f)"),
    };
  } catch {
    return null;
  }
})();

/**
 * Tiers up every exported wasm function whose name passes `wanted`. Returns "optimized" when
 * all of them run TurboFan code after it, "baseline" when one does not, "" when the natives are
 * unavailable or no export matched (the engine's own tiering decides, under the adaptive
 * warm-up).
 */
export function tierUpExports(inst, wanted) {
  if (v8Natives === null) return "";
  const parts = Object.entries(inst.exports)
    .filter(([name, f]) => typeof f === "function" && wanted(name))
    .map(([, f]) => f);
  if (!parts.length) return "";
  for (const f of parts) v8Natives.tierUp(f);
  return parts.every((f) => v8Natives.optimized(f)) ? "optimized" : "baseline";
}

/** True for the exports that hold a TVM kernel's code (toolchain/wasm_object.py). */
export function isKernelFunction(name) {
  return name.startsWith("__tvm_ffi_") || name.endsWith("_compute_");
}
