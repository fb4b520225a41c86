/*
 * pytest-wasm-tune's own implementation of the IEEE-754 binary format
 * conversion templates that the TVM runtime sources (builtin_fp16.cc, sort,
 * random) expect from 3rdparty/compiler-rt/builtin_fp16.h.
 *
 * Template arguments: <SrcT, SrcRepT, SrcSigBits, DstT, DstRepT, DstSigBits>,
 * where RepT is the unsigned integer holding the bits and SigBits the number of
 * stored significand bits (float: 23, double: 52, half: 10).
 * __truncXfYf2__ narrows with round-to-nearest-even (overflow gives inf);
 * __extendXfYf2__ widens exactly. NaNs stay NaNs (made quiet).
 */
#ifndef TVM_COMPAT_BUILTIN_FP16_H_
#define TVM_COMPAT_BUILTIN_FP16_H_

#include <cstdint>
#include <cstring>

namespace tvm_compat_fp {
template <typename RepT, int SigBits>
struct Format {
  static constexpr int kBits = static_cast<int>(sizeof(RepT) * 8);
  static constexpr int kExpBits = kBits - SigBits - 1;
  static constexpr int kExpMax = (1 << kExpBits) - 1;
  static constexpr int kBias = kExpMax >> 1;
  static constexpr RepT kSigMask = (RepT(1) << SigBits) - 1;
  static constexpr RepT kImplicit = RepT(1) << SigBits;
  static constexpr RepT kQuiet = RepT(1) << (SigBits - 1);
};

// x / 2^shift rounded to nearest, ties to even (0 < shift < bit width of T).
template <typename T>
inline T ShiftRoundEven(T x, int shift) {
  T q = x >> shift;
  T rem = x & ((T(1) << shift) - 1);
  T half = T(1) << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) ++q;
  return q;
}
}  // namespace tvm_compat_fp

template <typename SrcT, typename SrcRepT, int SrcSigBits, typename DstT, typename DstRepT,
          int DstSigBits>
inline DstT __truncXfYf2__(SrcT a) {
  using S = tvm_compat_fp::Format<SrcRepT, SrcSigBits>;
  using D = tvm_compat_fp::Format<DstRepT, DstSigBits>;
  static_assert(sizeof(SrcT) == sizeof(SrcRepT) && sizeof(DstT) == sizeof(DstRepT), "rep size");
  static_assert(SrcSigBits > DstSigBits && S::kExpBits >= D::kExpBits, "not a narrowing");
  constexpr int kShift = SrcSigBits - DstSigBits;

  SrcRepT bits;
  std::memcpy(&bits, &a, sizeof(bits));
  const DstRepT sign = static_cast<DstRepT>(bits >> (S::kBits - 1)) << (D::kBits - 1);
  const int exp = static_cast<int>((bits >> SrcSigBits) & SrcRepT(S::kExpMax));
  const SrcRepT frac = bits & S::kSigMask;
  const DstRepT inf = DstRepT(D::kExpMax) << DstSigBits;
  DstRepT out;

  if (exp == S::kExpMax) {  // inf or NaN
    out = inf;
    if (frac != 0) out |= D::kQuiet | static_cast<DstRepT>((frac >> kShift) & D::kSigMask);
  } else {
    // value = sig * 2^(e - SrcSigBits), sig including the implicit bit.
    const SrcRepT sig = exp == 0 ? frac : (frac | S::kImplicit);
    const int e = (exp == 0 ? 1 : exp) - S::kBias;
    const int dst_exp = e + D::kBias;
    if (dst_exp >= D::kExpMax) {
      out = inf;
    } else if (dst_exp >= 1) {
      // normal: adding the rounded significand (implicit bit included) to exponent-1 lets
      // a rounding carry bump the exponent; a carry past the largest one gives exactly inf.
      SrcRepT r = tvm_compat_fp::ShiftRoundEven(sig, kShift);
      out = static_cast<DstRepT>((SrcRepT(dst_exp - 1) << DstSigBits) + r);
    } else {  // subnormal or zero in the destination
      const int shift = kShift + 1 - dst_exp;
      out = shift > SrcSigBits + 1
                ? DstRepT(0)
                : static_cast<DstRepT>(tvm_compat_fp::ShiftRoundEven(sig, shift));
    }
  }
  DstT result;
  out |= sign;
  std::memcpy(&result, &out, sizeof(result));
  return result;
}

template <typename SrcT, typename SrcRepT, int SrcSigBits, typename DstT, typename DstRepT,
          int DstSigBits>
inline DstT __extendXfYf2__(SrcT a) {
  using S = tvm_compat_fp::Format<SrcRepT, SrcSigBits>;
  using D = tvm_compat_fp::Format<DstRepT, DstSigBits>;
  static_assert(sizeof(SrcT) == sizeof(SrcRepT) && sizeof(DstT) == sizeof(DstRepT), "rep size");
  static_assert(DstSigBits > SrcSigBits && D::kExpBits >= S::kExpBits, "not a widening");
  constexpr int kShift = DstSigBits - SrcSigBits;

  SrcRepT bits;
  std::memcpy(&bits, &a, sizeof(bits));
  const DstRepT sign = static_cast<DstRepT>(bits >> (S::kBits - 1)) << (D::kBits - 1);
  const int exp = static_cast<int>((bits >> SrcSigBits) & SrcRepT(S::kExpMax));
  const DstRepT frac = static_cast<DstRepT>(bits & S::kSigMask);
  DstRepT out;

  if (exp == S::kExpMax) {  // inf or NaN
    out = (DstRepT(D::kExpMax) << DstSigBits) | (frac << kShift);
    if (frac != 0) out |= D::kQuiet;
  } else if (exp != 0) {  // normal
    out = (DstRepT(exp - S::kBias + D::kBias) << DstSigBits) | (frac << kShift);
  } else if (frac == 0) {  // zero
    out = 0;
  } else {  // subnormal source: normalise, the leading 1 becomes implicit
    int top = SrcSigBits - 1;
    while (!((frac >> top) & 1)) --top;
    const int e = top + 1 - S::kBias - SrcSigBits;  // value = 1.xxx * 2^e
    out = (DstRepT(e + D::kBias) << DstSigBits) | ((frac << (DstSigBits - top)) & D::kSigMask);
  }
  DstT result;
  out |= sign;
  std::memcpy(&result, &out, sizeof(result));
  return result;
}

#endif  // TVM_COMPAT_BUILTIN_FP16_H_
