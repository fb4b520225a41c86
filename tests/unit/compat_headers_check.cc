// Native checks of pytest-wasm-tune's compat headers (pytest_wasm_tune/toolchain/compat).
// Driven by tests/unit/test_compat_headers.py, which compiles this file with g++ and
// compares the outputs of the data modes with Python/numpy/the host TVM runtime.
//
// Modes:
//   selftest                 in-process checks; prints "PASS name" / "FAIL name: why"
//   serialize OUT            writes a fixed value sequence (parsed by Python with struct)
//   deserialize IN           reads the sequence Python wrote with struct; prints the values
//   b64enc IN OUT            framed records ([u64 len][bytes])* -> base64 text records
//   b64dec IN OUT            framed base64 text records -> decoded byte records
//   h2f OUT                  all 65536 half bit patterns -> float32 via __extendXfYf2__
//   f2h IN OUT / d2h IN OUT  float32 / float64 array -> half bits via __truncXfYf2__
//   params IN OUT            parse the host's runtime.SaveParams bytes, write them again
//   webgpu IN OUT            parse a host webgpu module blob (fmap + smap), write it again
#include <builtin_fp16.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/string.h>
#include <tvm/support/cuda/nvtx.h>
#include <tvm/support/io.h>
#include <tvm/support/serializer.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/support/arena.h"
#include "src/support/base64.h"
#include "src/support/bytes_io.h"
#include "src/support/ring_buffer.h"
#include "src/support/utils.h"

namespace support = tvm::support;
namespace ffi = tvm::ffi;

// ---------------------------------------------------------------- helpers
static int g_failures = 0;

static void Report(const std::string& name, bool ok, const std::string& why = "") {
  if (ok) {
    std::cout << "PASS " << name << "\n";
  } else {
    ++g_failures;
    std::cout << "FAIL " << name << ": " << why << "\n";
  }
}

static std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

static std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

static std::string U64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

template <typename T>
static std::string Encode(const T& v) {
  std::string out;
  support::BytesOutStream os(&out);
  os.Write(v);
  return out;
}

template <typename T>
static bool RoundTrip(const T& v, T* back, std::string* bytes = nullptr) {
  std::string enc = Encode(v);
  if (bytes) *bytes = enc;
  support::BytesInStream is(enc);
  if (!is.Read(back)) return false;
  char extra;
  return is.Read(&extra, 1) == 0;  // everything consumed, nothing more
}

static void CheckBytes(const std::string& name, const std::string& got, const std::string& want) {
  Report(name, got == want, "got " + Hex(got) + " want " + Hex(want));
}

static std::string ReadFile(const char* path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

static void WriteFile(const char* path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// (operator== for DLDataType comes from tvm/ffi/dtype.h)
bool operator==(const DLDevice& a, const DLDevice& b) {
  return a.device_type == b.device_type && a.device_id == b.device_id;
}

// A user type with Save/Load and its own Serializer specialisation, the pattern
// the TVM sources use for VMFuncInfo.
struct FuncInfoLike {
  int32_t kind = 0;
  std::string name;
  std::vector<std::string> params;
  void Save(support::Stream* s) const {
    s->Write(kind);
    s->Write(name);
    s->Write(params);
  }
  bool Load(support::Stream* s) { return s->Read(&kind) && s->Read(&name) && s->Read(&params); }
  bool operator==(const FuncInfoLike& o) const {
    return kind == o.kind && name == o.name && params == o.params;
  }
};
namespace tvm {
namespace support {
template <>
struct Serializer<FuncInfoLike> {
  static constexpr bool enabled = true;
  static void Write(Stream* s, const FuncInfoLike& v) { v.Save(s); }
  static bool Read(Stream* s, FuncInfoLike* v) { return v->Load(s); }
};
}  // namespace support
}  // namespace tvm

enum class Code16 : int16_t { kA = 0x1234, kB = -2 };

// ---------------------------------------------------------------- selftest parts
static void TestStreams() {
  std::string buf;
  support::BytesOutStream os(&buf);
  os.Write("hello", 5);
  os.Write(" world", 6);
  Report("bytes_out.append", buf == "hello world", buf);

  support::BytesInStream is(buf);
  char tmp[8] = {0};
  size_t n1 = is.Read(tmp, 5);
  size_t n2 = is.Read(tmp, 8);  // only 6 left
  size_t n3 = is.Read(tmp, 8);
  Report("bytes_in.short_reads", n1 == 5 && n2 == 6 && n3 == 0 && std::memcmp(tmp, " world", 6) == 0,
         std::to_string(n1) + "," + std::to_string(n2) + "," + std::to_string(n3));

  // A BytesInStream over a std::string holding NULs and over an ffi::String.
  std::string with_nul("a\0b", 3);
  support::BytesInStream is2(with_nul);
  char t3[3];
  Report("bytes_in.nul_bytes", is2.Read(t3, 3) == 3 && std::memcmp(t3, "a\0b", 3) == 0);
  ffi::String fs("xyz");
  support::BytesInStream is3(fs);
  Report("bytes_in.ffi_string", is3.Read(t3, 3) == 3 && std::memcmp(t3, "xyz", 3) == 0);
}

static void TestScalars() {
  bool ok = true;
  std::string why;
  auto rt = [&](auto v, const char* what) {
    decltype(v) back{};
    std::string bytes;
    if (!RoundTrip(v, &back, &bytes) || !(back == v) || bytes.size() != sizeof(v)) {
      ok = false;
      why += std::string(what) + " ";
    }
  };
  rt(int8_t{-5}, "i8");
  rt(uint8_t{250}, "u8");
  rt(int16_t{-12345}, "i16");
  rt(uint16_t{0xBEEF}, "u16");
  rt(int32_t{-2147483647 - 1}, "i32");
  rt(uint32_t{0xDEADBEEF}, "u32");
  rt(int64_t{-1234567890123456789LL}, "i64");
  rt(uint64_t{0xFEDCBA9876543210ULL}, "u64");
  rt(3.25f, "f32");
  rt(-1.0e-300, "f64");
  rt(true, "bool");
  rt(Code16::kB, "enum16");
  Report("serializer.scalar_roundtrip", ok, why);

  CheckBytes("layout.u16_le", Encode(uint16_t{0x1234}), Bytes({0x34, 0x12}));
  CheckBytes("layout.i32_le", Encode(int32_t{-2}), Bytes({0xfe, 0xff, 0xff, 0xff}));
  CheckBytes("layout.u64_le", Encode(uint64_t{0x0102030405060708ULL}),
             Bytes({8, 7, 6, 5, 4, 3, 2, 1}));
  CheckBytes("layout.f64_le", Encode(1.0), Bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  CheckBytes("layout.f32_le", Encode(-2.0f), Bytes({0, 0, 0, 0xc0}));
  CheckBytes("layout.enum_natural_size", Encode(Code16::kA), Bytes({0x34, 0x12}));
}

static void TestContainers() {
  // exact layouts: uint64 LE count, then the elements
  CheckBytes("layout.string", Encode(std::string("abc")), U64(3) + "abc");
  CheckBytes("layout.empty_string", Encode(std::string()), U64(0));
  CheckBytes("layout.vector_i32", Encode(std::vector<int32_t>{1, -2}),
             U64(2) + Bytes({1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}));
  CheckBytes("layout.vector_u8", Encode(std::vector<uint8_t>{9, 8, 7}), U64(3) + Bytes({9, 8, 7}));
  CheckBytes("layout.vector_string", Encode(std::vector<std::string>{"a", "", "bc"}),
             U64(3) + U64(1) + "a" + U64(0) + U64(2) + "bc");
  CheckBytes("layout.nested_vector",
             Encode(std::vector<std::vector<int16_t>>{{1, 2}, {}, {-1}}),
             U64(3) + U64(2) + Bytes({1, 0, 2, 0}) + U64(0) + U64(1) + Bytes({0xff, 0xff}));
  CheckBytes("layout.pair", Encode(std::pair<std::string, int32_t>("k", 7)),
             U64(1) + "k" + Bytes({7, 0, 0, 0}));
  CheckBytes("layout.map", Encode(std::map<std::string, int32_t>{{"b", 2}, {"a", 1}}),
             U64(2) + U64(1) + "a" + Bytes({1, 0, 0, 0}) + U64(1) + "b" + Bytes({2, 0, 0, 0}));
  CheckBytes("layout.ffi_string", Encode(ffi::String("hey")), U64(3) + "hey");
  CheckBytes("layout.ffi_array_i64", Encode(ffi::Array<int64_t>{5, -1}),
             U64(2) + Bytes({5, 0, 0, 0, 0, 0, 0, 0}) + Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                             0xff, 0xff}));
  CheckBytes("layout.ffi_map_one_entry",
             Encode(ffi::Map<ffi::String, ffi::String>{{"k", "vv"}}),
             U64(1) + U64(1) + "k" + U64(2) + "vv");

  // round trips
  {
    std::string s("bin\0ary\xff", 8), back;
    Report("roundtrip.string_binary", RoundTrip(s, &back) && back == s);
  }
  {
    std::vector<double> v{0.0, -1.5, 1e300, 3.14159}, back;
    Report("roundtrip.vector_double", RoundTrip(v, &back) && back == v);
  }
  {
    std::vector<int64_t> v, back{1, 2, 3};
    Report("roundtrip.vector_empty", RoundTrip(v, &back) && back.empty());
  }
  {
    std::vector<std::vector<std::string>> v{{"x", "yy"}, {}, {"", "zzz"}}, back;
    Report("roundtrip.nested_vector_string", RoundTrip(v, &back) && back == v);
  }
  {
    std::vector<std::vector<std::vector<int32_t>>> v{{{1}, {2, 3}}, {{}}, {}}, back;
    Report("roundtrip.vector3d", RoundTrip(v, &back) && back == v);
  }
  {
    std::unordered_map<std::string, std::string> m{{"k1", "v1"}, {"k2", ""}}, back{{"stale", "x"}};
    Report("roundtrip.unordered_map", RoundTrip(m, &back) && back == m);
  }
  {
    std::map<int32_t, std::vector<std::string>> m{{3, {"a"}}, {-1, {}}}, back;
    Report("roundtrip.map_int_vector", RoundTrip(m, &back) && back == m);
  }
  {
    std::vector<FuncInfoLike> v(2), back;
    v[0] = {1, "main", {"x", "y"}};
    v[1] = {2, "", {}};
    Report("roundtrip.user_serializer_vector", RoundTrip(v, &back) && back == v);
  }
  {
    ffi::Array<ffi::String> a{"p", "", "long string beyond the small string buffer"}, back;
    bool ok = RoundTrip(a, &back) && back.size() == a.size();
    for (size_t i = 0; ok && i < a.size(); ++i) ok = back[i] == a[i];
    Report("roundtrip.ffi_array_string", ok);
  }
  {
    ffi::Array<DLDataType> a{DLDataType{2, 32, 1}, DLDataType{0, 8, 4}}, back;
    bool ok = RoundTrip(a, &back) && back.size() == 2 && back[0] == a[0] && back[1] == a[1];
    Report("roundtrip.ffi_array_dtype", ok);
  }
  {
    ffi::Map<ffi::String, ffi::Array<int64_t>> m{{"a", {1, 2}}, {"b", {}}}, back;
    bool ok = RoundTrip(m, &back) && back.size() == 2 && back.at("a").size() == 2 &&
              back.at("a")[1] == 2 && back.at("b").empty();
    Report("roundtrip.ffi_map", ok);
  }

  // truncated input must fail, not crash
  {
    std::string bad = U64(10) + "abc";
    support::BytesInStream is(bad);
    std::string s;
    Report("read.truncated_string_fails", !is.Read(&s));
    std::string bad2 = U64(4) + Bytes({1, 0, 0, 0});
    support::BytesInStream is2(bad2);
    std::vector<int32_t> v;
    Report("read.truncated_vector_fails", !is2.Read(&v));
    std::string two_bytes("\x01\x02", 2);
    support::BytesInStream is3(two_bytes);
    uint32_t u;
    Report("read.truncated_scalar_fails", !is3.Read(&u));
  }

  // WriteArray / ReadArray carry no count
  {
    int64_t shape[3] = {2, -3, 4};
    std::string out;
    support::BytesOutStream os(&out);
    os.WriteArray(shape, 3);
    std::string want;
    for (int64_t v : shape) want += Encode(v);
    CheckBytes("layout.write_array_no_count", out, want);
    int64_t back[3];
    support::BytesInStream is(out);
    Report("roundtrip.read_array",
           is.ReadArray(back, 3) && std::memcmp(back, shape, sizeof(shape)) == 0);
    std::vector<std::string> strs{"a", "b"};
    std::string out2;
    support::BytesOutStream os2(&out2);
    os2.WriteArray(strs.data(), 2);
    CheckBytes("layout.write_array_strings", out2, U64(1) + "a" + U64(1) + "b");
  }
}

static void TestDLPackTypes() {
  CheckBytes("layout.dldatatype", Encode(DLDataType{2, 32, 4}), Bytes({0x02, 0x20, 0x04, 0x00}));
  CheckBytes("layout.dldatatype_lanes_le", Encode(DLDataType{1, 16, 0x0102}),
             Bytes({0x01, 0x10, 0x02, 0x01}));
  CheckBytes("layout.dldevice", Encode(DLDevice{kDLCPU, 3}),
             Bytes({0x01, 0, 0, 0, 0x03, 0, 0, 0}));
  CheckBytes("layout.dldevice_webgpu", Encode(DLDevice{kDLWebGPU, -1}),
             Bytes({15, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));
  Report("layout.sizes_match_rpc_byte_count",
         Encode(DLDataType{}).size() == sizeof(DLDataType) &&
             Encode(DLDevice{}).size() == sizeof(DLDevice));
  DLDataType t{4, 16, 8}, tb{};
  DLDevice d{kDLWebGPU, 2}, db{};
  Report("roundtrip.dldatatype", RoundTrip(t, &tb) && tb == t);
  Report("roundtrip.dldevice", RoundTrip(d, &db) && db == d);
  std::vector<DLDataType> vt{{0, 64, 1}, {2, 16, 2}}, vtb;
  Report("roundtrip.vector_dldatatype",
         RoundTrip(vt, &vtb) && vtb.size() == 2 && vtb[0] == vt[0] && vtb[1] == vt[1]);
  std::vector<DLDevice> vd{{kDLCPU, 0}, {kDLCUDA, 7}}, vdb;
  Report("roundtrip.vector_dldevice",
         RoundTrip(vd, &vdb) && vdb.size() == 2 && vdb[0] == vd[0] && vdb[1] == vd[1]);
}

// Mimics rpc_endpoint's EventHandler: a Stream over two ring buffers, with the
// RPC-code overloads next to the inherited typed helpers.
enum class FakeCode : int { kCall = 3 };
class RingStream : public support::Stream {
 public:
  explicit RingStream(support::RingBuffer* rb) : rb_(rb) {}
  using Stream::Read;
  using Stream::Write;
  bool Read(FakeCode* c) {
    int32_t v;
    if (!this->Read(&v)) return false;
    *c = static_cast<FakeCode>(v);
    return true;
  }
  void Write(FakeCode c) { this->Write(static_cast<int32_t>(c)); }
  size_t Read(void* p, size_t n) final {
    rb_->Read(p, n);
    return n;
  }
  size_t Write(const void* p, size_t n) final {
    rb_->Write(p, n);
    return n;
  }

 private:
  support::RingBuffer* rb_;
};

static void TestRingBuffer() {
  {
    support::RingBuffer rb;
    size_t cap = rb.capacity();
    std::string a(cap - 10, 'a');
    rb.Write(a.data(), a.size());
    std::string got(cap - 20, '\0');
    rb.Read(got.data(), got.size());  // head now near the end
    std::string b = "0123456789ABCDEFGHIJ";  // wraps around the end
    rb.Write(b.data(), b.size());
    bool ok = rb.capacity() == cap && rb.bytes_available() == 30;
    std::string rest(30, '\0');
    rb.Read(rest.data(), 30);
    ok = ok && rest == std::string(10, 'a') + b && rb.bytes_available() == 0;
    Report("ring.wraparound_no_growth", ok, "cap " + std::to_string(rb.capacity()));
  }
  {
    // growth while the content is wrapped keeps the order
    support::RingBuffer rb;
    size_t cap = rb.capacity();
    std::string x(cap - 4, 'x');
    rb.Write(x.data(), x.size());
    std::string sink(cap - 8, '\0');
    rb.Read(sink.data(), sink.size());
    std::string payload;
    for (size_t i = 0; i < 3 * cap; ++i) payload.push_back(static_cast<char>('A' + i % 26));
    rb.Write(payload.data(), payload.size());
    std::string all(rb.bytes_available(), '\0');
    rb.Read(all.data(), all.size());
    Report("ring.growth_keeps_order", rb.capacity() > cap && all == "xxxx" + payload);
  }
  {
    support::RingBuffer rb;
    rb.Reserve(100000);
    bool ok = rb.capacity() >= 100000 && rb.bytes_available() == 0;
    rb.Write("abc", 3);
    rb.Reserve(300000);
    char t[3];
    rb.Read(t, 3);
    Report("ring.reserve_keeps_data", ok && std::memcmp(t, "abc", 3) == 0);
  }
  {
    // callbacks: partial consumption / partial fill, as the RPC channel does
    support::RingBuffer rb;
    rb.Write("0123456789", 10);
    std::string sent;
    size_t n = rb.ReadWithCallback(
        [&](const void* p, size_t sz) {
          size_t take = sz < 4 ? sz : 4;
          sent.append(static_cast<const char*>(p), take);
          return take;
        },
        rb.bytes_available());
    bool ok = n == 4 && sent == "0123" && rb.bytes_available() == 6;
    size_t m = rb.WriteWithCallback(
        [](void* p, size_t sz) {
          std::memcpy(p, "XY", 2);
          return sz >= 2 ? size_t{2} : sz;
        },
        50);
    std::string rest(rb.bytes_available(), '\0');
    rb.Read(rest.data(), rest.size());
    ok = ok && m == 2 && rest == "456789XY";
    size_t z = rb.ReadWithCallback([](const void*, size_t) { return size_t{1}; }, 10);
    Report("ring.callbacks", ok && z == 0, rest);
  }
  {
    // randomised against std::deque, including growth and wrap-around
    std::mt19937 rng(1234);
    support::RingBuffer rb;
    std::deque<char> ref;
    bool ok = true;
    size_t grows = 0, last_cap = rb.capacity();
    for (int step = 0; step < 20000 && ok; ++step) {
      int op = rng() % 4;
      if (op <= 1) {
        size_t len = rng() % (op == 0 ? 700 : 5000);
        std::string d(len, '\0');
        for (char& c : d) c = static_cast<char>(rng());
        rb.Write(d.data(), len);
        ref.insert(ref.end(), d.begin(), d.end());
      } else if (op == 2) {
        size_t len = ref.empty() ? 0 : rng() % (ref.size() + 1);
        std::string d(len, '\0');
        rb.Read(d.data(), len);
        for (size_t i = 0; i < len; ++i) {
          ok = ok && d[i] == ref.front();
          ref.pop_front();
        }
      } else {
        size_t limit = rng() % 3000;
        rb.ReadWithCallback(
            [&](const void* p, size_t sz) {
              size_t take = sz / 2 + 1;
              if (take > sz) take = sz;
              const char* c = static_cast<const char*>(p);
              for (size_t i = 0; i < take; ++i) {
                ok = ok && c[i] == ref.front();
                ref.pop_front();
              }
              return take;
            },
            limit);
      }
      ok = ok && rb.bytes_available() == ref.size();
      if (rb.capacity() != last_cap) ++grows, last_cap = rb.capacity();
    }
    Report("ring.random_vs_deque", ok && grows > 0, "grows " + std::to_string(grows));
  }
  {
    support::RingBuffer rb;
    RingStream s(&rb);
    s.Write(uint64_t{12});
    s.Write(FakeCode::kCall);
    s.Write(DLDataType{2, 32, 1});
    uint64_t n = 0;
    FakeCode c{};
    DLDataType t{};
    bool ok = rb.bytes_available() == 16 && s.Read(&n) && s.Read(&c) && s.Read(&t);
    Report("ring.event_handler_style_stream",
           ok && n == 12 && c == FakeCode::kCall && t == DLDataType{2, 32, 1});
  }
}

// A page source like minrpc's: it sets size and offset and counts pages.
struct CountingPages {
  int* live;
  explicit CountingPages(int* l) : live(l) {}
  support::ArenaPageHeader* allocate(size_t min_size) {
    size_t size = ((min_size + 1023) / 1024) * 1024;
    auto* p = static_cast<support::ArenaPageHeader*>(std::malloc(size));
    p->size = size;
    p->offset = sizeof(support::ArenaPageHeader);
    ++*live;
    return p;
  }
  void deallocate(support::ArenaPageHeader* p) {
    --*live;
    std::free(p);
  }
};

struct alignas(64) Wide {
  char bytes[64];
};

static void TestArena() {
  {
    support::Arena arena;
    bool aligned = true, disjoint = true;
    std::vector<std::pair<unsigned char*, size_t>> blocks;
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
      size_t n = 1 + rng() % 300;
      unsigned char* p;
      switch (i % 4) {
        case 0:
          p = reinterpret_cast<unsigned char*>(arena.allocate_<char>(n));
          break;
        case 1:
          p = reinterpret_cast<unsigned char*>(arena.allocate_<double>(n));
          aligned = aligned && reinterpret_cast<uintptr_t>(p) % alignof(double) == 0;
          n *= sizeof(double);
          break;
        case 2:
          p = reinterpret_cast<unsigned char*>(arena.allocate_<Wide>(1 + n % 3));
          aligned = aligned && reinterpret_cast<uintptr_t>(p) % 64 == 0;
          n = sizeof(Wide) * (1 + n % 3);
          break;
        default:
          p = static_cast<unsigned char*>(arena.Alloc(n, 128));
          aligned = aligned && reinterpret_cast<uintptr_t>(p) % 128 == 0;
      }
      std::memset(p, i & 0xFF, n);
      blocks.emplace_back(p, n);
    }
    for (size_t i = 0; i < blocks.size(); ++i) {
      for (size_t j = 0; j < blocks[i].second; ++j) {
        disjoint = disjoint && blocks[i].first[j] == static_cast<unsigned char>(i & 0xFF);
      }
    }
    Report("arena.aligned", aligned);
    Report("arena.blocks_disjoint", disjoint);
    // a block bigger than a page
    char* big = arena.allocate_<char>(1 << 20);
    std::memset(big, 1, 1 << 20);
    Report("arena.large_block", big != nullptr);
  }
  {
    support::Arena arena;
    int64_t* first = arena.allocate_<int64_t>(4);
    arena.allocate_<int64_t>(4);
    arena.RecycleAll();
    int64_t* again = arena.allocate_<int64_t>(4);
    Report("arena.reuse_after_recycle", first == again);
  }
  {
    int live = 0;
    {
      support::GenericArena<CountingPages> arena{CountingPages(&live)};
      for (int i = 0; i < 50; ++i) arena.allocate_<char>(700);
      int pages = live;
      arena.RecycleAll();
      bool kept = live == pages && pages > 1;
      for (int i = 0; i < 50; ++i) arena.allocate_<char>(700);
      bool reused = live == pages;
      arena.FreeAll();
      Report("arena.generic_recycle_keeps_pages", kept && reused, std::to_string(pages));
      Report("arena.generic_freeall", live == 0);
      arena.allocate_<char>(10);
    }
    Report("arena.destructor_frees", live == 0);
  }
}

static std::string B64Encode(const std::string& data, size_t piece) {
  std::string text;
  support::BytesOutStream os(&text);
  support::Base64OutStream b64(&os);
  for (size_t i = 0; i < data.size(); i += piece) {
    b64.Write(data.data() + i, std::min(piece, data.size() - i));
  }
  b64.Finish();
  return text;
}

static std::string B64Decode(const std::string& text, size_t piece) {
  support::BytesInStream is(text);
  support::Base64InStream b64(&is);
  b64.InitPosition();
  std::string out;
  std::string buf(piece, '\0');
  while (true) {
    size_t n = b64.Read(buf.data(), piece);
    out.append(buf.data(), n);
    if (n < piece) break;
  }
  return out;
}

static void TestBase64() {
  const char* rfc[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                          {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                          {"foobar", "Zm9vYmFy"}};
  bool ok = true;
  for (auto& v : rfc) {
    ok = ok && B64Encode(v[0], 1) == v[1] && B64Decode(v[1], 3) == v[0];
  }
  Report("base64.rfc4648_vectors", ok);

  std::mt19937 rng(99);
  bool rt = true;
  for (size_t len : {0, 1, 2, 3, 4, 5, 100, 4095, 4096, 4097, 20000}) {
    std::string d(len, '\0');
    for (char& c : d) c = static_cast<char>(rng());
    for (size_t piece : {1, 2, 7, 4096}) {
      rt = rt && B64Decode(B64Encode(d, piece), piece + 1) == d;
    }
  }
  Report("base64.roundtrip_pieces", rt);
  Report("base64.whitespace_skipped", B64Decode("Zm9v\nYmFy\r\n ", 4) == "foobar");
  Report("base64.unpadded_tail", B64Decode("Zm9vYg", 16) == "foob");

  // typed values through the base64 layer, as SaveDLTensor/Tensor::Load do
  std::string text;
  {
    support::BytesOutStream os(&text);
    support::Base64OutStream b64(&os);
    b64.Write(uint64_t{0xDD5E40F096B4A13FULL});
    b64.Write(DLDevice{kDLCPU, 0});
    b64.Write(std::vector<int64_t>{2, 3});
    b64.Finish();
  }
  support::BytesInStream is(text);
  support::Base64InStream b64(&is);
  b64.InitPosition();
  uint64_t magic = 0;
  DLDevice dev{};
  std::vector<int64_t> shape;
  bool typed = b64.Read(&magic) && b64.Read(&dev) && b64.Read(&shape);
  Report("base64.typed_values", typed && magic == 0xDD5E40F096B4A13FULL &&
                                    dev == DLDevice{kDLCPU, 0} &&
                                    shape == std::vector<int64_t>{2, 3});
}

static void TestUtils() {
  Report("utils.starts_with", support::StartsWith("RPCSessionTimeoutError: x", "RPCSession") &&
                                  !support::StartsWith("RPC", "RPCSession") &&
                                  support::StartsWith("abc", ""));
  Report("utils.ends_with", support::EndsWith("model.wasm", ".wasm") &&
                                !support::EndsWith("wasm", "model.wasm"));
  Report("utils.is_number", support::IsNumber("0") && support::IsNumber("1234567") &&
                                !support::IsNumber("") && !support::IsNumber("-1") &&
                                !support::IsNumber("12a") && !support::IsNumber(" 1"));
  ffi::String cpu("3");
  Report("utils.is_number_ffi_string", support::IsNumber(cpu));
  Report("utils.split",
         support::Split("a,b,,c", ',') == std::vector<std::string>{"a", "b", "", "c"} &&
             support::Split("x,", ',') == std::vector<std::string>{"x", ""} &&
             support::Split("", ',').empty());
  size_t h = 17;
  size_t pure = support::HashCombine(size_t{17}, size_t{99});
  size_t ret = support::HashCombine(h, size_t{99});
  Report("utils.hash_combine", pure == ret && h == pure && pure != 17 &&
                                   support::HashCombine(size_t{17}, size_t{98}) != pure);
  setenv("PWT_COMPAT_ENV_INT", "42", 1);
  setenv("PWT_COMPAT_ENV_EMPTY", "", 1);
  setenv("PWT_COMPAT_ENV_TEXT", "two words", 1);
  Report("utils.get_env", support::GetEnv("PWT_COMPAT_ENV_INT", 5) == 42 &&
                              support::GetEnv("PWT_COMPAT_ENV_EMPTY", 5) == 5 &&
                              support::GetEnv("PWT_COMPAT_ENV_UNSET_XYZ", 2.5) == 2.5 &&
                              support::GetEnv("PWT_COMPAT_ENV_INT", "d") == "42" &&
                              support::GetEnv("PWT_COMPAT_ENV_TEXT", std::string()) == "two words");
  {
    support::NVTXScopedRange a("range");
    support::NVTXScopedRange b(std::string("range ") + "two");
  }
  Report("nvtx.noop_range", true);
}

static void TestFp16Spots() {
  auto h2f = [](uint16_t h) {
    return __extendXfYf2__<uint16_t, uint16_t, 10, float, uint32_t, 23>(h);
  };
  auto f2h = [](float f) { return __truncXfYf2__<float, uint32_t, 23, uint16_t, uint16_t, 10>(f); };
  auto d2h = [](double d) {
    return __truncXfYf2__<double, uint64_t, 52, uint16_t, uint16_t, 10>(d);
  };
  Report("fp16.spots", h2f(0x3c00) == 1.0f && h2f(0xc000) == -2.0f && h2f(0x7bff) == 65504.0f &&
                           h2f(0x0001) == 5.9604644775390625e-08f && f2h(1.0f) == 0x3c00 &&
                           f2h(65520.0f) == 0x7c00 && f2h(65519.99f) == 0x7bff &&
                           d2h(1.0 / 3.0) == 0x3555 && f2h(-0.0f) == 0x8000);
}

static int SelfTest() {
  TestStreams();
  TestScalars();
  TestContainers();
  TestDLPackTypes();
  TestRingBuffer();
  TestArena();
  TestBase64();
  TestUtils();
  TestFp16Spots();
  std::cout << (g_failures == 0 ? "ALL PASSED" : "FAILURES") << "\n";
  return g_failures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- data modes
static std::vector<std::string> ReadRecords(const std::string& blob) {
  support::BytesInStream is(blob);
  std::vector<std::string> out;
  uint64_t n;
  while (is.Read(&n)) {
    std::string rec(n, '\0');
    if (is.Read(rec.data(), n) != n) break;
    out.push_back(rec);
  }
  return out;
}

static std::string WriteRecords(const std::vector<std::string>& recs) {
  std::string out;
  support::BytesOutStream os(&out);
  for (const auto& r : recs) {
    os.Write<uint64_t>(r.size());
    os.Write(r.data(), r.size());
  }
  return out;
}

// The sequence Python parses with struct (see test_compat_headers.py).
static std::string FixedSequence() {
  std::string out;
  support::BytesOutStream os(&out);
  os.Write(int8_t{-7});
  os.Write(uint16_t{65000});
  os.Write(int32_t{-123456});
  os.Write(int64_t{-9000000000LL});
  os.Write(uint64_t{18000000000000000000ULL});
  os.Write(1.5f);
  os.Write(-2.75e100);
  os.Write(std::string("h\xc3\xa9llo"));
  os.Write(std::vector<int32_t>{3, -1, 7});
  os.Write(std::vector<double>{0.5, -0.25});
  os.Write(std::vector<std::string>{"ab", "", "c"});
  os.Write(std::vector<std::vector<int64_t>>{{1, 2}, {}, {-3}});
  os.Write(DLDataType{2, 16, 4});
  os.Write(DLDevice{kDLWebGPU, 1});
  os.Write(std::map<std::string, uint8_t>{{"x", 1}, {"yy", 2}});
  return out;
}

static int Deserialize(const std::string& blob) {
  support::BytesInStream is(blob);
  int32_t i32;
  double f64;
  std::string s;
  std::vector<int64_t> vi;
  std::vector<std::string> vs;
  std::vector<std::vector<int32_t>> vv;
  DLDataType t;
  DLDevice d;
  std::unordered_map<std::string, std::string> m;
  if (!(is.Read(&i32) && is.Read(&f64) && is.Read(&s) && is.Read(&vi) && is.Read(&vs) &&
        is.Read(&vv) && is.Read(&t) && is.Read(&d) && is.Read(&m))) {
    std::cout << "READ FAILED\n";
    return 1;
  }
  char extra;
  std::cout.precision(17);
  std::cout << "i32 " << i32 << "\nf64 " << f64 << "\nstr " << s << "\nvi";
  for (auto v : vi) std::cout << " " << v;
  std::cout << "\nvs";
  for (auto& v : vs) std::cout << " [" << v << "]";
  std::cout << "\nvv";
  for (auto& v : vv) {
    std::cout << " (";
    for (auto x : v) std::cout << x << ";";
    std::cout << ")";
  }
  std::cout << "\ndtype " << int(t.code) << " " << int(t.bits) << " " << t.lanes;
  std::cout << "\ndevice " << int(d.device_type) << " " << d.device_id;
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  std::cout << "\nmap";
  for (auto& kv : sorted) std::cout << " " << kv.first << "=" << kv.second;
  std::cout << "\nleftover " << is.Read(&extra, 1) << "\n";
  return 0;
}

// runtime.SaveParams layout, read and written back with the compat serializer.
static int Params(const std::string& blob, const char* out_path) {
  support::BytesInStream is(blob);
  std::string out;
  support::BytesOutStream os(&out);
  uint64_t header, reserved, count;
  std::vector<std::string> names;
  if (!(is.Read(&header) && is.Read(&reserved) && is.Read(&names) && is.Read(&count))) return 2;
  if (count != names.size()) return 6;
  os.Write(header);
  os.Write(reserved);
  os.Write(names);
  os.Write(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t magic, res;
    DLDevice dev;
    int32_t ndim;
    DLDataType dtype;
    if (!(is.Read(&magic) && is.Read(&res) && is.Read(&dev) && is.Read(&ndim) &&
          is.Read(&dtype)))
      return 3;
    std::vector<int64_t> shape(ndim);
    int64_t nbytes;
    if (!is.ReadArray(shape.data(), shape.size()) || !is.Read(&nbytes)) return 4;
    std::string data(nbytes, '\0');
    if (is.Read(data.data(), data.size()) != data.size()) return 5;
    os.Write(magic);
    os.Write(res);
    os.Write(dev);
    os.Write(ndim);
    os.Write(dtype);
    os.WriteArray(shape.data(), shape.size());
    os.Write(nbytes);
    os.Write(data.data(), data.size());
    std::cout << "tensor " << names[i] << " magic " << std::hex << magic << std::dec << " dev "
              << int(dev.device_type) << ":" << dev.device_id << " dtype " << int(dtype.code)
              << "," << int(dtype.bits) << "," << dtype.lanes << " shape";
    for (auto v : shape) std::cout << " " << v;
    std::cout << " nbytes " << nbytes << "\n";
  }
  WriteFile(out_path, out);
  return 0;
}

// WebGPU module bytes: ffi::Map<String, FunctionInfo> then unordered_map<string, string>,
// FunctionInfo being name, Array<DLDataType>, Array<String>, Array<int enum>.
static int WebGPU(const std::string& blob, const char* out_path) {
  support::BytesInStream is(blob);
  std::string out;
  support::BytesOutStream os(&out);
  uint64_t nfunc;
  if (!is.Read(&nfunc)) return 2;
  os.Write(nfunc);
  for (uint64_t i = 0; i < nfunc; ++i) {
    ffi::String key, name;
    ffi::Array<DLDataType> arg_types;
    ffi::Array<ffi::String> tags;
    ffi::Array<int32_t> extra;
    if (!(is.Read(&key) && is.Read(&name) && is.Read(&arg_types) && is.Read(&tags) &&
          is.Read(&extra)))
      return 3;
    os.Write(key);
    os.Write(name);
    os.Write(arg_types);
    os.Write(tags);
    os.Write(extra);
    std::cout << "func " << key << " name " << name << " args";
    for (DLDataType t : arg_types) {
      std::cout << " " << int(t.code) << "," << int(t.bits) << "," << t.lanes;
    }
    std::cout << " tags";
    for (const ffi::String& t : tags) std::cout << " " << t;
    std::cout << " extra " << extra.size() << "\n";
  }
  std::unordered_map<std::string, std::string> smap;
  if (!is.Read(&smap)) return 4;
  // unordered_map order is unspecified: only a single-entry map re-serialises byte-exactly
  os.Write(smap);
  for (auto& kv : smap) std::cout << "shader " << kv.first << " " << kv.second.size() << "\n";
  char extra_byte;
  std::cout << "leftover " << is.Read(&extra_byte, 1) << "\n";
  WriteFile(out_path, out);
  return 0;
}

template <typename Src>
static std::string ToHalf(const std::string& in) {
  size_t n = in.size() / sizeof(Src);
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    Src v;
    std::memcpy(&v, in.data() + i * sizeof(Src), sizeof(Src));
    uint16_t h;
    if constexpr (sizeof(Src) == 4) {
      h = __truncXfYf2__<float, uint32_t, 23, uint16_t, uint16_t, 10>(v);
    } else {
      h = __truncXfYf2__<double, uint64_t, 52, uint16_t, uint16_t, 10>(v);
    }
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: see the header of compat_headers_check.cc\n";
    return 64;
  }
  std::string mode = argv[1];
  if (mode == "selftest") return SelfTest();
  if (mode == "serialize" && argc == 3) {
    WriteFile(argv[2], FixedSequence());
    return 0;
  }
  if (mode == "deserialize" && argc == 3) return Deserialize(ReadFile(argv[2]));
  if ((mode == "b64enc" || mode == "b64dec") && argc == 4) {
    std::vector<std::string> out;
    for (const auto& rec : ReadRecords(ReadFile(argv[2]))) {
      out.push_back(mode == "b64enc" ? B64Encode(rec, 5) : B64Decode(rec, 64));
    }
    WriteFile(argv[3], WriteRecords(out));
    return 0;
  }
  if (mode == "h2f" && argc == 3) {
    std::string out(65536 * 4, '\0');
    for (uint32_t i = 0; i < 65536; ++i) {
      float f = __extendXfYf2__<uint16_t, uint16_t, 10, float, uint32_t, 23>(
          static_cast<uint16_t>(i));
      std::memcpy(out.data() + 4 * i, &f, 4);
    }
    WriteFile(argv[2], out);
    return 0;
  }
  if (mode == "f2h" && argc == 4) {
    WriteFile(argv[3], ToHalf<float>(ReadFile(argv[2])));
    return 0;
  }
  if (mode == "d2h" && argc == 4) {
    WriteFile(argv[3], ToHalf<double>(ReadFile(argv[2])));
    return 0;
  }
  if (mode == "params" && argc == 4) return Params(ReadFile(argv[2]), argv[3]);
  if (mode == "webgpu" && argc == 4) return WebGPU(ReadFile(argv[2]), argv[3]);
  std::cerr << "unknown mode or wrong arguments\n";
  return 64;
}
