/*
 * pytest-wasm-tune's own implementation of the value serializers that the TVM
 * runtime sources expect from <tvm/support/serializer.h>.
 *
 * Layout (must match the host libtvm_runtime byte for byte, e.g. over RPC):
 *  - arithmetic and enum values: little-endian, sizeof(T) bytes;
 *  - DLDataType: code u8, bits u8, lanes u16; DLDevice: type i32, id i32;
 *  - strings, vectors, arrays: uint64 element count, then the elements;
 *  - maps: uint64 entry count, then key, value for each entry.
 */
#ifndef TVM_SUPPORT_SERIALIZER_H_
#define TVM_SUPPORT_SERIALIZER_H_

#include <dlpack/dlpack.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm/support/io.h>

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tvm {
namespace support {

/*! \brief Types without a serializer. */
template <typename T, typename Enable>
struct Serializer {
  static constexpr bool enabled = false;
};

/*! \brief Arithmetic and enum values: their own bytes, little-endian. */
template <typename T>
struct Serializer<T, std::enable_if_t<kIsRawSerializable<T>>> {
  static constexpr bool enabled = true;
  static void Write(Stream* strm, const T& v) { strm->WriteRaw(&v, 1); }
  static bool Read(Stream* strm, T* v) { return strm->ReadRaw(v, 1); }
};

template <>
struct Serializer<DLDataType> {
  static constexpr bool enabled = true;
  static void Write(Stream* strm, const DLDataType& t) {
    strm->Write<uint8_t>(t.code);
    strm->Write<uint8_t>(t.bits);
    strm->Write<uint16_t>(t.lanes);
  }
  static bool Read(Stream* strm, DLDataType* t) {
    return strm->Read(&t->code) && strm->Read(&t->bits) && strm->Read(&t->lanes);
  }
};

template <>
struct Serializer<DLDevice> {
  static constexpr bool enabled = true;
  static void Write(Stream* strm, const DLDevice& d) {
    strm->Write<int32_t>(static_cast<int32_t>(d.device_type));
    strm->Write<int32_t>(d.device_id);
  }
  static bool Read(Stream* strm, DLDevice* d) {
    int32_t type = 0;
    if (!strm->Read(&type) || !strm->Read(&d->device_id)) return false;
    d->device_type = static_cast<DLDeviceType>(type);
    return true;
  }
};

template <>
struct Serializer<std::string> {
  static constexpr bool enabled = true;
  static void Write(Stream* strm, const std::string& s) {
    strm->Write<uint64_t>(s.size());
    strm->WriteRaw(s.data(), s.size());
  }
  static bool Read(Stream* strm, std::string* s) {
    uint64_t n;
    if (!strm->Read(&n)) return false;
    s->resize(static_cast<size_t>(n));
    return strm->ReadRaw(s->data(), s->size());
  }
};

template <>
struct Serializer<ffi::String> {
  static constexpr bool enabled = true;
  static void Write(Stream* strm, const ffi::String& s) {
    strm->Write<uint64_t>(s.size());
    strm->WriteRaw(s.data(), s.size());
  }
  static bool Read(Stream* strm, ffi::String* s) {
    std::string tmp;
    if (!Serializer<std::string>::Read(strm, &tmp)) return false;
    *s = ffi::String(std::move(tmp));
    return true;
  }
};

template <typename T, typename Alloc>
struct Serializer<std::vector<T, Alloc>> {
  static_assert(!std::is_same_v<T, bool>, "std::vector<bool> is not serializable");
  static constexpr bool enabled = Serializer<T>::enabled;
  static void Write(Stream* strm, const std::vector<T, Alloc>& v) {
    strm->Write<uint64_t>(v.size());
    strm->WriteArray(v.data(), v.size());
  }
  static bool Read(Stream* strm, std::vector<T, Alloc>* v) {
    uint64_t n;
    if (!strm->Read(&n)) return false;
    v->resize(static_cast<size_t>(n));
    return strm->ReadArray(v->data(), v->size());
  }
};

template <typename A, typename B>
struct Serializer<std::pair<A, B>> {
  static constexpr bool enabled = Serializer<A>::enabled && Serializer<B>::enabled;
  static void Write(Stream* strm, const std::pair<A, B>& p) {
    strm->Write(p.first);
    strm->Write(p.second);
  }
  static bool Read(Stream* strm, std::pair<A, B>* p) {
    return strm->Read(&p->first) && strm->Read(&p->second);
  }
};

/*! \brief Shared logic of std::map / std::unordered_map. */
template <typename MapT>
struct StdMapSerializer {
  using K = typename MapT::key_type;
  using V = typename MapT::mapped_type;
  static constexpr bool enabled = Serializer<K>::enabled && Serializer<V>::enabled;
  static void Write(Stream* strm, const MapT& m) {
    strm->Write<uint64_t>(m.size());
    for (const auto& kv : m) {
      strm->Write(kv.first);
      strm->Write(kv.second);
    }
  }
  static bool Read(Stream* strm, MapT* m) {
    uint64_t n;
    if (!strm->Read(&n)) return false;
    m->clear();
    for (uint64_t i = 0; i < n; ++i) {
      K k;
      V v;
      if (!strm->Read(&k) || !strm->Read(&v)) return false;
      (*m)[std::move(k)] = std::move(v);
    }
    return true;
  }
};

template <typename K, typename V, typename C, typename A>
struct Serializer<std::map<K, V, C, A>> : StdMapSerializer<std::map<K, V, C, A>> {};
template <typename K, typename V, typename H, typename E, typename A>
struct Serializer<std::unordered_map<K, V, H, E, A>>
    : StdMapSerializer<std::unordered_map<K, V, H, E, A>> {};

template <typename T>
struct Serializer<ffi::Array<T>> {
  static constexpr bool enabled = Serializer<T>::enabled;
  static void Write(Stream* strm, const ffi::Array<T>& arr) {
    strm->Write<uint64_t>(arr.size());
    for (const auto& elem : arr) strm->Write(static_cast<T>(elem));
  }
  static bool Read(Stream* strm, ffi::Array<T>* arr) {
    uint64_t n;
    if (!strm->Read(&n)) return false;
    ffi::Array<T> out;
    for (uint64_t i = 0; i < n; ++i) {
      T elem;
      if (!strm->Read(&elem)) return false;
      out.push_back(std::move(elem));
    }
    *arr = std::move(out);
    return true;
  }
};

template <typename K, typename V>
struct Serializer<ffi::Map<K, V>> {
  static constexpr bool enabled = Serializer<K>::enabled && Serializer<V>::enabled;
  static void Write(Stream* strm, const ffi::Map<K, V>& m) {
    strm->Write<uint64_t>(m.size());
    for (const auto& kv : m) {
      strm->Write(static_cast<K>(kv.first));
      strm->Write(static_cast<V>(kv.second));
    }
  }
  static bool Read(Stream* strm, ffi::Map<K, V>* m) {
    uint64_t n;
    if (!strm->Read(&n)) return false;
    ffi::Map<K, V> out;
    for (uint64_t i = 0; i < n; ++i) {
      K k;
      V v;
      if (!strm->Read(&k) || !strm->Read(&v)) return false;
      out.Set(std::move(k), std::move(v));
    }
    *m = std::move(out);
    return true;
  }
};

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_SERIALIZER_H_
