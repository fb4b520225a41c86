// wasm SIMD128 peak: CHAINS independent f32x4 accumulator chains, each step acc = acc * m + a
// (a mul and an add: 8 flops per chain per step; wasm SIMD128 has no fused multiply-add).
// Built by bench/peers.py: emcc -O3 -msimd128 --no-entry -sSTANDALONE_WASM=1.
#include <wasm_simd128.h>

#define PEAK_KERNEL(CHAINS)                                                           \
  __attribute__((export_name("peak_" #CHAINS))) float peak_##CHAINS(int steps, float m, \
                                                                     float a) {       \
    v128_t acc[CHAINS];                                                               \
    const v128_t vm = wasm_f32x4_splat(m);                                            \
    const v128_t va = wasm_f32x4_splat(a);                                            \
    _Pragma("clang loop unroll(full)") for (int c = 0; c < CHAINS; ++c) {             \
      acc[c] = wasm_f32x4_splat((float)c);                                            \
    }                                                                                 \
    for (int i = 0; i < steps; ++i) {                                                 \
      _Pragma("clang loop unroll(full)") for (int c = 0; c < CHAINS; ++c) {           \
        acc[c] = wasm_f32x4_add(wasm_f32x4_mul(acc[c], vm), va);                      \
      }                                                                               \
    }                                                                                 \
    v128_t sum = acc[0];                                                              \
    _Pragma("clang loop unroll(full)") for (int c = 1; c < CHAINS; ++c) {             \
      sum = wasm_f32x4_add(sum, acc[c]);                                              \
    }                                                                                 \
    return wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 1) +        \
           wasm_f32x4_extract_lane(sum, 2) + wasm_f32x4_extract_lane(sum, 3);         \
  }

PEAK_KERNEL(4)
PEAK_KERNEL(6)
PEAK_KERNEL(8)
PEAK_KERNEL(10)
PEAK_KERNEL(12)
// Around V8's SIMD register budget on x64 (13 chains + m + a = 15 values); measured on Zen 4,
// Chromium 156: 12 chains 45, 13 chains 54, 14 chains 48, 16 chains 35 GFLOPS.
PEAK_KERNEL(13)
PEAK_KERNEL(14)
PEAK_KERNEL(16)
