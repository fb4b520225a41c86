/*
 * pytest-wasm-tune's own implementation of the growable byte ring buffer that
 * the TVM runtime sources (RPC endpoint, disco) expect from
 * src/support/ring_buffer.h.
 */
#ifndef TVM_SUPPORT_RING_BUFFER_H_
#define TVM_SUPPORT_RING_BUFFER_H_

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace tvm {
namespace support {

/*! \brief FIFO of bytes; grows on demand, never loses unread data. */
class RingBuffer {
 public:
  static constexpr size_t kInitCapacity = 4096;

  RingBuffer() : buf_(kInitCapacity) {}

  /*! \return Number of unread bytes. */
  size_t bytes_available() const { return size_; }
  /*! \return Current capacity in bytes. */
  size_t capacity() const { return buf_.size(); }

  /*! \brief Make room for at least n bytes in total (unread bytes are kept). */
  void Reserve(size_t n) {
    if (n <= buf_.size()) return;
    std::vector<char> grown(std::max(n, buf_.size() * 2));
    CopyOut(grown.data(), size_);  // linearize at offset 0
    buf_.swap(grown);
    head_ = 0;
  }

  /*! \brief Pop exactly size bytes into data (size must be <= bytes_available()). */
  void Read(void* data, size_t size) {
    if (size > size_) throw std::out_of_range("RingBuffer::Read: not enough bytes");
    CopyOut(static_cast<char*>(data), size);
    Consume(size);
  }

  /*! \brief Push size bytes, growing as needed. */
  void Write(const void* data, size_t size) {
    Reserve(size_ + size);
    const char* src = static_cast<const char*>(data);
    size_t tail = (head_ + size_) % buf_.size();
    size_t first = std::min(size, buf_.size() - tail);
    if (first != 0) std::memcpy(buf_.data() + tail, src, first);
    if (size > first) std::memcpy(buf_.data(), src + first, size - first);
    size_ += size;
  }

  /*!
   * \brief Hand up to max_nbytes contiguous unread bytes to
   *  `size_t fsend(const void* data, size_t size)`, then drop as many as it reports sent.
   * \return The number of bytes consumed.
   */
  template <typename FSend>
  size_t ReadWithCallback(FSend fsend, size_t max_nbytes) {
    size_t n = std::min({max_nbytes, size_, buf_.size() - head_});
    if (n == 0) return 0;
    size_t sent = fsend(static_cast<const void*>(buf_.data() + head_), n);
    Consume(std::min(sent, n));
    return sent;
  }

  /*!
   * \brief Offer a contiguous free region of up to max_nbytes to
   *  `size_t frecv(void* data, size_t size)`; keep as many bytes as it reports written.
   * \return The number of bytes added.
   */
  template <typename FRecv>
  size_t WriteWithCallback(FRecv frecv, size_t max_nbytes) {
    if (max_nbytes == 0) return 0;
    Reserve(size_ + max_nbytes);
    size_t tail = (head_ + size_) % buf_.size();
    size_t n = std::min(max_nbytes, buf_.size() - tail);
    size_t got = frecv(static_cast<void*>(buf_.data() + tail), n);
    size_ += std::min(got, n);
    return got;
  }

 private:
  // Copy the first n unread bytes to dst without consuming them.
  void CopyOut(char* dst, size_t n) const {
    size_t first = std::min(n, buf_.size() - head_);
    if (first != 0) std::memcpy(dst, buf_.data() + head_, first);
    if (n > first) std::memcpy(dst + first, buf_.data(), n - first);
  }
  void Consume(size_t n) {
    size_ -= n;
    head_ = size_ == 0 ? 0 : (head_ + n) % buf_.size();
  }

  std::vector<char> buf_;
  size_t head_{0};
  size_t size_{0};
};

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_RING_BUFFER_H_
