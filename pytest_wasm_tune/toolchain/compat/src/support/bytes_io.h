/*
 * pytest-wasm-tune's own implementation of the in-memory streams that the TVM
 * runtime sources expect from src/support/bytes_io.h.
 */
#ifndef TVM_SUPPORT_BYTES_IO_H_
#define TVM_SUPPORT_BYTES_IO_H_

#include <tvm/support/io.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace tvm {
namespace support {

/*!
 * \brief Reads from a byte buffer it does not own (a std::string, ffi::Bytes,
 *  ffi::String, ...): the buffer must outlive the stream.
 */
class BytesInStream : public Stream {
 public:
  BytesInStream(const char* data, size_t size) : data_(data), size_(size) {}
  template <typename Container,
            typename = decltype(std::declval<const Container&>().data()),
            typename = decltype(std::declval<const Container&>().size())>
  explicit BytesInStream(const Container& buf) : BytesInStream(buf.data(), buf.size()) {}
  explicit BytesInStream(std::string&&) = delete;  // would dangle

  using Stream::Read;
  using Stream::Write;

  size_t Read(void* ptr, size_t size) final {
    size_t n = std::min(size, size_ - pos_);
    if (n != 0) std::memcpy(ptr, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  size_t Write(const void*, size_t) final { return 0; }  // read-only

  void Seek(size_t pos) { pos_ = std::min(pos, size_); }
  size_t Tell() const { return pos_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_{0};
};

/*! \brief Appends everything written to a std::string it does not own. */
class BytesOutStream : public Stream {
 public:
  explicit BytesOutStream(std::string* out) : out_(out) {}

  using Stream::Read;
  using Stream::Write;

  size_t Write(const void* ptr, size_t size) final {
    out_->append(static_cast<const char*>(ptr), size);
    return size;
  }
  size_t Read(void*, size_t) final { return 0; }  // write-only

 private:
  std::string* out_;
};

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_BYTES_IO_H_
