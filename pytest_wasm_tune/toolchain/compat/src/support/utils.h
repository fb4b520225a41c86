/*
 * pytest-wasm-tune's own implementation of the small string/env/hash helpers
 * that the TVM runtime sources expect from src/support/utils.h.
 */
#ifndef TVM_SUPPORT_UTILS_H_
#define TVM_SUPPORT_UTILS_H_

#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace tvm {
namespace support {

/*! \return Whether str begins with prefix. */
inline bool StartsWith(const std::string& str, const std::string& prefix) {
  return str.compare(0, prefix.size(), prefix) == 0;
}

/*! \return Whether str ends with suffix. */
inline bool EndsWith(const std::string& str, const std::string& suffix) {
  return str.size() >= suffix.size() &&
         str.compare(str.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/*! \return Whether str is a non-empty run of decimal digits. */
inline bool IsNumber(const std::string& str) {
  if (str.empty()) return false;
  for (char c : str) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

/*! \brief Split str at every delim (empty fields are kept). */
inline std::vector<std::string> Split(const std::string& str, char delim) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream is(str);
  while (std::getline(is, field, delim)) out.push_back(field);
  if (!str.empty() && str.back() == delim) out.emplace_back();
  return out;
}

/*!
 * \brief Value of environment variable key parsed as T, or default_value when
 *  it is unset or empty.
 */
template <typename T>
inline T GetEnv(const char* key, T default_value) {
  const char* raw = std::getenv(key);
  if (raw == nullptr || *raw == '\0') return default_value;
  if constexpr (std::is_same_v<T, std::string>) {
    return std::string(raw);
  } else {
    T value = default_value;
    std::istringstream is(raw);
    is >> value;
    return value;
  }
}
inline std::string GetEnv(const char* key, const char* default_value) {
  return GetEnv<std::string>(key, default_value);
}

/*!
 * \brief Mix value into a hash seed and return the result. Given a non-const
 *  lvalue seed it also stores the result there, which is how the TVM sources
 *  call it (`support::HashCombine(hash, x);`).
 */
inline size_t HashCombine(const size_t& seed, size_t value) {
  return seed ^ (value + 0x9e3779b9 + (seed << 6) + (seed >> 2));
}
inline size_t HashCombine(size_t& seed, size_t value) {
  seed = HashCombine(static_cast<const size_t&>(seed), value);
  return seed;
}

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_UTILS_H_
