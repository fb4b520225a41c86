/*
 * pytest-wasm-tune's own implementation of the NVTX range helper that the TVM
 * runtime sources expect from <tvm/support/cuda/nvtx.h>. There is no CUDA in a
 * WebAssembly build, so the range is a no-op.
 */
#ifndef TVM_SUPPORT_CUDA_NVTX_H_
#define TVM_SUPPORT_CUDA_NVTX_H_

#include <string>

namespace tvm {
namespace support {

/*! \brief Marks a profiling range for its lifetime (no-op without NVTX). */
class NVTXScopedRange {
 public:
  explicit NVTXScopedRange(const char* /*name*/) {}
  explicit NVTXScopedRange(const std::string& /*name*/) {}
  NVTXScopedRange(const NVTXScopedRange&) = delete;
  NVTXScopedRange& operator=(const NVTXScopedRange&) = delete;
};

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_CUDA_NVTX_H_
