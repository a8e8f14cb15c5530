// The pool behind read_lease: a stack of free buffers under one mutex, refilled one mapping
// (256 buffers) at a time. Leases change hands only when a connection turns busy or quiet, not
// per message, so one lock is cheap enough. The mappings are never unmapped: the pool's size
// is the process's peak of busy connections, in address space only (see read_lease.hpp).
#include "read_lease.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace wsx::asio::detail {
namespace {

constexpr std::size_t buffers_per_mapping = 256;  // 1 MiB
constexpr std::size_t colours = (read_lease::slot_size - read_lease::size) / 64;

constexpr std::size_t page = 4096;

// The buffer's offset in its slot, from the slot's page number: slots are page-aligned and the
// offset is under a page, so a slot and its buffer give the same answer.
std::size_t colour_offset(const std::byte* p) noexcept {
  const std::uintptr_t page_number = reinterpret_cast<std::uintptr_t>(p) / page;
  return page_number / (read_lease::slot_size / page) % colours * 64;
}

class pool {
 public:
  std::byte* take() noexcept {
    std::lock_guard lock(mutex_);
    if (free_.empty() && !map_more()) return nullptr;
    std::byte* slot = free_.back();
    free_.pop_back();
    ++lent_;
    return slot + colour_offset(slot);
  }

  void give_back(std::byte* data) noexcept {
    std::byte* slot = data - colour_offset(data);
    // The kernel takes the pages back now; the next borrower gets zeroed pages on first touch.
    ::madvise(slot, read_lease::slot_size, MADV_DONTNEED);
    std::lock_guard lock(mutex_);
    free_.push_back(slot);  // capacity reserved in map_more(): no allocation, no throw
    --lent_;
  }

  read_lease_pool_state state() {
    std::lock_guard lock(mutex_);
    return {mapped_, lent_};
  }

 private:
  bool map_more() noexcept {
    try {
      free_.reserve(mapped_ + buffers_per_mapping);
    } catch (...) {
      return false;
    }
    void* m = ::mmap(nullptr, read_lease::slot_size * buffers_per_mapping, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    auto* base = static_cast<std::byte*>(m);
    for (std::size_t i = buffers_per_mapping; i-- > 0;) {
      free_.push_back(base + i * read_lease::slot_size);
    }
    mapped_ += buffers_per_mapping;
    return true;
  }

  std::mutex mutex_;
  std::vector<std::byte*> free_;
  std::size_t mapped_ = 0;
  std::size_t lent_ = 0;
};

pool& the_pool() {
  // Never destroyed: leases may be returned while static objects are being torn down.
  static pool* const p = new pool;
  return *p;
}

}  // namespace

read_lease read_lease::acquire() noexcept { return read_lease(the_pool().take()); }

read_lease& read_lease::operator=(read_lease&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

void read_lease::reset() noexcept {
  if (data_ != nullptr) the_pool().give_back(std::exchange(data_, nullptr));
}

read_lease_pool_state read_lease_pool() { return the_pool().state(); }

}  // namespace wsx::asio::detail
