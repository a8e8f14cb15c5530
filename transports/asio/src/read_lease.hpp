// Read buffers lent to busy TCP connections. Internal to transports/asio.
//
// An idle connection owns no read buffer: it waits for readability and then reads into the
// thread's buffer. Waiting that way costs a system call per message, though (Asio re-registers
// the socket with epoll for every readiness wait), so a connection that is exchanging messages
// borrows a buffer of its own and keeps an asynchronous read posted into it instead, which Asio
// starts without that call. The buffer goes back when the connection has been quiet for a
// while (pump::on_read_idle's shrink), and on close.
//
// The buffers are carved from 1 MiB anonymous mappings, never from the heap, so lending and
// returning them leaves no holes among the connections' long-lived allocations; a returned
// buffer's pages are handed back to the kernel (madvise), so a pool that once lent many buffers
// costs address space, not memory. Any thread may acquire or release.
#pragma once

#include <cstddef>

namespace wsx::asio::detail {

class read_lease {
 public:
  // What data() offers: a small message, or a few. Each buffer sits in a one-page slot at an
  // offset that varies from slot to slot (a multiple of 64 bytes): buffers at the same page
  // offset would all compete for the same cache sets when a thread serves many busy
  // connections in turn.
  static constexpr std::size_t size = 2048;
  static constexpr std::size_t slot_size = 4096;

  read_lease() noexcept = default;
  // A buffer of `size` bytes, or an empty lease when no memory could be mapped (the caller
  // goes on reading without one).
  static read_lease acquire() noexcept;

  read_lease(read_lease&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  read_lease& operator=(read_lease&& other) noexcept;
  read_lease(const read_lease&) = delete;
  read_lease& operator=(const read_lease&) = delete;
  ~read_lease() { reset(); }

  // Returns the buffer to the pool; its contents are gone.
  void reset() noexcept;
  std::byte* data() const noexcept { return data_; }  // `size` bytes
  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  explicit read_lease(std::byte* data) noexcept : data_(data) {}
  std::byte* data_ = nullptr;
};

// What the pool holds, for tests and diagnostics.
struct read_lease_pool_state {
  std::size_t mapped = 0;  // buffers carved so far (lent + free)
  std::size_t lent = 0;
};
read_lease_pool_state read_lease_pool();

}  // namespace wsx::asio::detail
