/*
 * pytest-wasm-tune's own implementation of the base64 (RFC 4648, standard
 * alphabet, '=' padding) stream adaptors that the TVM runtime sources expect
 * from src/support/base64.h.
 */
#ifndef TVM_SUPPORT_BASE64_H_
#define TVM_SUPPORT_BASE64_H_

#include <tvm/support/io.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace tvm {
namespace support {
namespace base64 {
inline const char* Alphabet() {
  return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}
/*! \return 6-bit value of c, -1 for whitespace, -2 for '=', -3 otherwise. */
inline int Decode(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (c == ' ' || c == '\n' || c == '\r' || c == '\t') return -1;
  return c == '=' ? -2 : -3;
}
}  // namespace base64

/*! \brief Encodes everything written into base64 text on another stream; call Finish() last. */
class Base64OutStream : public Stream {
 public:
  explicit Base64OutStream(Stream* out) : out_(out) {}

  using Stream::Read;
  using Stream::Write;

  size_t Write(const void* ptr, size_t size) final {
    const unsigned char* p = static_cast<const unsigned char*>(ptr);
    for (size_t i = 0; i < size; ++i) {
      group_[ngroup_++] = p[i];
      if (ngroup_ == 3) EmitGroup();
    }
    if (text_.size() >= kFlushBytes) Flush();
    return size;
  }
  size_t Read(void*, size_t) final { return 0; }  // write-only

  /*! \brief Emit the last partial group (with '=' padding) and flush. */
  void Finish() {
    if (ngroup_ != 0) EmitGroup();
    Flush();
  }

 private:
  static constexpr size_t kFlushBytes = 4096;
  void EmitGroup() {
    uint32_t v = (uint32_t{group_[0]} << 16) | (ngroup_ > 1 ? uint32_t{group_[1]} << 8 : 0) |
                 (ngroup_ > 2 ? uint32_t{group_[2]} : 0);
    const char* abc = base64::Alphabet();
    char quad[4] = {abc[(v >> 18) & 63], abc[(v >> 12) & 63], abc[(v >> 6) & 63], abc[v & 63]};
    if (ngroup_ < 3) quad[3] = '=';
    if (ngroup_ < 2) quad[2] = '=';
    text_.append(quad, 4);
    ngroup_ = 0;
  }
  void Flush() {
    if (!text_.empty()) out_->Write(text_.data(), text_.size());
    text_.clear();
  }

  Stream* out_;
  std::string text_;
  unsigned char group_[3] = {0, 0, 0};
  int ngroup_{0};
};

/*!
 * \brief Decodes base64 text read from another stream. Whitespace is skipped;
 *  decoding stops at padding, at a character outside the alphabet or at the
 *  end of the input. Reads the source ahead in chunks.
 */
class Base64InStream : public Stream {
 public:
  explicit Base64InStream(Stream* in) : in_(in) {}

  using Stream::Read;
  using Stream::Write;

  /*! \brief Start decoding at the current position of the source. */
  void InitPosition() {
    nbytes_ = pos_ = 0;
    chunk_len_ = chunk_pos_ = 0;
    ended_ = false;
  }

  size_t Read(void* ptr, size_t size) final {
    unsigned char* out = static_cast<unsigned char*>(ptr);
    size_t done = 0;
    while (done < size) {
      if (pos_ == nbytes_ && !DecodeQuad()) break;
      size_t n = nbytes_ - pos_ < size - done ? nbytes_ - pos_ : size - done;
      std::memcpy(out + done, bytes_ + pos_, n);
      pos_ += n;
      done += n;
    }
    return done;
  }
  size_t Write(const void*, size_t) final { return 0; }  // read-only

 private:
  // Next non-whitespace char of the source into *c; false at end of input.
  bool NextChar(char* c) {
    while (true) {
      if (chunk_pos_ == chunk_len_) {
        chunk_len_ = in_->Read(chunk_, sizeof(chunk_));
        chunk_pos_ = 0;
        if (chunk_len_ == 0) return false;
      }
      *c = chunk_[chunk_pos_++];
      if (base64::Decode(*c) != -1) return true;
    }
  }
  // Decode up to four chars into bytes_; false when nothing is left.
  bool DecodeQuad() {
    nbytes_ = pos_ = 0;
    if (ended_) return false;
    uint32_t v = 0;
    int nchars = 0;
    char c;
    while (nchars < 4 && NextChar(&c)) {
      int d = base64::Decode(c);
      if (d < 0) {  // '=' or a foreign char: the data ends here
        ended_ = true;
        break;
      }
      v = (v << 6) | static_cast<uint32_t>(d);
      ++nchars;
    }
    if (nchars < 4) ended_ = true;
    if (nchars < 2) return false;
    v <<= 6 * (4 - nchars);
    for (int i = 0; i < nchars - 1; ++i) bytes_[nbytes_++] = (v >> (16 - 8 * i)) & 0xFF;
    return true;
  }

  Stream* in_;
  char chunk_[256];
  size_t chunk_len_{0}, chunk_pos_{0};
  unsigned char bytes_[3];
  size_t nbytes_{0}, pos_{0};
  bool ended_{false};
};

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_BASE64_H_
