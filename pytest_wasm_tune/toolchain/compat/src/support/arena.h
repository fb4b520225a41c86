/*
 * pytest-wasm-tune's own implementation of the page arena that the TVM runtime
 * sources (RPC endpoint, minrpc server, disco) expect from src/support/arena.h.
 */
#ifndef TVM_SUPPORT_ARENA_H_
#define TVM_SUPPORT_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

namespace tvm {
namespace support {

/*!
 * \brief Header at the start of every arena page. A page allocator fills in
 *  `size` (whole page, header included) and `offset` (first free byte).
 */
struct ArenaPageHeader {
  ArenaPageHeader* next;
  size_t size;
  size_t offset;
};

/*! \brief Default page source: malloc'd pages of at least kPageSize bytes. */
class SimplePageAllocator {
 public:
  static constexpr size_t kPageSize = 16 << 10;

  ArenaPageHeader* allocate(size_t min_size) {
    size_t size = min_size > kPageSize ? min_size : kPageSize;
    void* mem = std::malloc(size);
    if (mem == nullptr) throw std::bad_alloc();
    ArenaPageHeader* page = static_cast<ArenaPageHeader*>(mem);
    page->size = size;
    page->offset = sizeof(ArenaPageHeader);
    return page;
  }
  void deallocate(ArenaPageHeader* page) { std::free(page); }
};

/*!
 * \brief Bump allocator over pages from PageAllocator. Memory is only given
 *  back in bulk: RecycleAll() keeps the pages for reuse, FreeAll() releases them.
 */
template <typename PageAllocator>
class GenericArena {
 public:
  explicit GenericArena(PageAllocator alloc = PageAllocator()) : alloc_(alloc) {}
  GenericArena(const GenericArena&) = delete;
  GenericArena& operator=(const GenericArena&) = delete;
  ~GenericArena() { FreeAll(); }

  /*! \brief size bytes aligned to align (a power of two). */
  void* Alloc(size_t size, size_t align = alignof(std::max_align_t)) {
    if (void* p = TryBump(used_, size, align)) return p;
    // Next page: reuse a recycled one if it is big enough, else get a new one.
    ArenaPageHeader* page = free_;
    if (page != nullptr && Fits(page, size, align)) {
      free_ = page->next;
    } else {
      page = alloc_.allocate(sizeof(ArenaPageHeader) + size + align);
    }
    page->next = used_;
    used_ = page;
    return TryBump(page, size, align);
  }

  /*! \brief Uninitialised storage for count objects of trivial type T. */
  template <typename T>
  T* allocate_(size_t count) {
    static_assert(std::is_trivially_destructible<T>::value, "arena objects are never destroyed");
    return static_cast<T*>(Alloc(sizeof(T) * count, alignof(T)));
  }

  /*! \brief Forget every allocation; keep the pages for reuse. */
  void RecycleAll() {
    while (used_ != nullptr) {
      ArenaPageHeader* page = used_;
      used_ = page->next;
      page->offset = sizeof(ArenaPageHeader);
      page->next = free_;
      free_ = page;
    }
  }

  /*! \brief Forget every allocation and give all pages back. */
  void FreeAll() {
    RecycleAll();
    while (free_ != nullptr) {
      ArenaPageHeader* page = free_;
      free_ = page->next;
      alloc_.deallocate(page);
    }
  }

 private:
  static size_t AlignedOffset(const ArenaPageHeader* page, size_t align) {
    uintptr_t base = reinterpret_cast<uintptr_t>(page);
    uintptr_t at = (base + page->offset + align - 1) & ~(static_cast<uintptr_t>(align) - 1);
    return static_cast<size_t>(at - base);
  }
  static bool Fits(const ArenaPageHeader* page, size_t size, size_t align) {
    return AlignedOffset(page, align) + size <= page->size;
  }
  static void* TryBump(ArenaPageHeader* page, size_t size, size_t align) {
    if (page == nullptr || !Fits(page, size, align)) return nullptr;
    size_t at = AlignedOffset(page, align);
    page->offset = at + size;
    return reinterpret_cast<char*>(page) + at;
  }

  PageAllocator alloc_;
  ArenaPageHeader* used_{nullptr};  // pages in use, newest first
  ArenaPageHeader* free_{nullptr};  // recycled pages
};

/*! \brief The arena used by the RPC endpoint and disco. */
using Arena = GenericArena<SimplePageAllocator>;

}  // namespace support
}  // namespace tvm

#endif  // TVM_SUPPORT_ARENA_H_
