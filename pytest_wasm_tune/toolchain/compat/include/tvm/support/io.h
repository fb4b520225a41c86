/*
 * pytest-wasm-tune's own implementation of the byte-stream interface that the
 * TVM runtime sources expect from <tvm/support/io.h>.
 *
 * A Stream moves raw bytes (Read/Write of (pointer, size)); typed helpers route
 * values through support::Serializer<T> (see serializer.h), which fixes the
 * wire/file layout: little-endian values at their natural size.
 */
#ifndef TVM_SUPPORT_IO_H_
#define TVM_SUPPORT_IO_H_

#include <tvm/ffi/endian.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tvm {
namespace support {

/*!
 * \brief Value (de)serializer: `static void Write(Stream*, const T&)`,
 *  `static bool Read(Stream*, T*)`, `static constexpr bool enabled`.
 *  Specialised in serializer.h and by TVM sources (e.g. FunctionInfo).
 */
template <typename T, typename Enable = void>
struct Serializer;

/*! \brief Types stored as their own little-endian bytes (arrays go in bulk). */
template <typename T>
inline constexpr bool kIsRawSerializable = std::is_arithmetic_v<T> || std::is_enum_v<T>;

/*! \brief Abstract byte stream. */
class Stream {
 public:
  virtual ~Stream() = default;
  /*! \brief Read up to size bytes into ptr; return the number of bytes read. */
  virtual size_t Read(void* ptr, size_t size) = 0;
  /*! \brief Write size bytes from ptr; return the number of bytes written. */
  virtual size_t Write(const void* ptr, size_t size) = 0;

  /*! \brief Write one value through Serializer<T>. */
  template <typename T>
  void Write(const T& value) {
    static_assert(Serializer<T>::enabled, "no support::Serializer for this type");
    Serializer<T>::Write(this, value);
  }
  /*! \brief Read one value through Serializer<T>; false on a short read. */
  template <typename T>
  bool Read(T* out) {
    static_assert(Serializer<T>::enabled, "no support::Serializer for this type");
    return Serializer<T>::Read(this, out);
  }
  /*! \brief Write num values (no count prefix). */
  template <typename T>
  void WriteArray(const T* data, size_t num) {
    if constexpr (kIsRawSerializable<T>) {
      WriteRaw(data, num);
    } else {
      for (size_t i = 0; i < num; ++i) Serializer<T>::Write(this, data[i]);
    }
  }
  /*! \brief Read num values (no count prefix); false on a short read. */
  template <typename T>
  bool ReadArray(T* data, size_t num) {
    if constexpr (kIsRawSerializable<T>) {
      return ReadRaw(data, num);
    } else {
      for (size_t i = 0; i < num; ++i) {
        if (!Serializer<T>::Read(this, data + i)) return false;
      }
      return true;
    }
  }

  /*! \brief Bulk write of arithmetic values, byte-swapped on big-endian hosts. */
  template <typename T>
  void WriteRaw(const T* data, size_t num) {
    if (num == 0) return;
    if constexpr (!TVM_FFI_IO_NO_ENDIAN_SWAP && sizeof(T) > 1) {
      for (size_t i = 0; i < num; ++i) {
        T tmp = data[i];
        ffi::ByteSwap(&tmp, sizeof(T), 1);
        this->Write(static_cast<const void*>(&tmp), sizeof(T));
      }
    } else {
      this->Write(static_cast<const void*>(data), sizeof(T) * num);
    }
  }
  /*! \brief Bulk read of arithmetic values, byte-swapped on big-endian hosts. */
  template <typename T>
  bool ReadRaw(T* data, size_t num) {
    if (num == 0) return true;
    size_t nbytes = sizeof(T) * num;
    if (this->Read(static_cast<void*>(data), nbytes) != nbytes) return false;
    if constexpr (!TVM_FFI_IO_NO_ENDIAN_SWAP && sizeof(T) > 1) {
      ffi::ByteSwap(data, sizeof(T), num);
    }
    return true;
  }
};

}  // namespace support
}  // namespace tvm

// The typed helpers need the serializers; make io.h self-sufficient.
#include <tvm/support/serializer.h>

#endif  // TVM_SUPPORT_IO_H_
