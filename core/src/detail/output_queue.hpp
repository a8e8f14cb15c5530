// The connection's output: a queue of fixed blocks that bytes are appended to and consumed from.
// Appending never moves bytes already in the queue, so ranges handed to writev()/async_write()
// stay valid while more frames are appended. Consumed blocks, the last one included, go to a
// small per-thread pool, so steady-state sending does not allocate, a queue that has sent
// everything holds no block, and connections served in turn reuse the same, cache-warm block.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "wsx/types.hpp"

namespace wsx::detail {

class output_queue {
 public:
  static constexpr std::size_t block_size = 16 * 1024;
  // pending() lists at most this many ranges (a safe writev iovec count).
  static constexpr std::size_t max_ranges = 64;

  // Reserves `n` contiguous bytes at the tail and returns them for the caller to fill; they are
  // counted in size() at once. A request larger than block_size gets a block of its own.
  std::span<std::byte> append(std::size_t n);
  void append(bytes_view bytes);
  // Queues `bytes` without copying them: `owner` keeps them alive until they are consumed. Used
  // for frames encoded once and sent on many connections (broadcast).
  void append_shared(bytes_view bytes, std::shared_ptr<const void> owner);

  // The end of the queue as it is now, to take back what is appended after it (see truncate()).
  struct mark {
    std::size_t blocks = 0;    // blocks in the queue
    std::size_t tail_end = 0;  // end of the last of them
    std::size_t size = 0;
  };
  mark tail_mark() const noexcept;
  // Takes back every byte appended since `m` was taken, so a call that fails halfway through
  // queues nothing. No consume(), drop_all() or shrink_to_fit() may come in between.
  void truncate(const mark& m) noexcept;

  // The queued bytes as ranges in order (at most max_ranges of them). Valid until the next
  // non-const call.
  std::span<const bytes_view> pending() const;
  // Drops `n` bytes from the front (n <= size()). Also frees what drop_all() kept alive.
  void consume(std::size_t n) noexcept;
  // Empties the queue at once (nothing will be written any more) but keeps the dropped bytes
  // alive until the next consume() or the queue's end: a write that an embedder has in flight
  // may still be reading them.
  void drop_all() noexcept;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Empty, and holding no dropped bytes a write may still read.
  bool holds_nothing() const noexcept { return size_ == 0 && !dropped_; }
  // When the queue is empty, frees the block list's own storage too.
  void shrink_to_fit() noexcept;

 private:
  struct block {
    std::unique_ptr<std::byte[]> data;
    std::shared_ptr<const void> owner;  // external block: keeps `ext` alive
    const std::byte* ext = nullptr;     // external block: its bytes (data is null)
    const std::byte* base() const noexcept { return ext ? ext : data.get(); }
    std::size_t capacity = 0;
    std::size_t begin = 0;  // first unconsumed byte
    std::size_t end = 0;    // one past the last appended byte
  };
  std::span<std::byte> append_to_new_block(std::size_t n);
  void recycle(block&& b) noexcept;
  void release_dropped() noexcept { dropped_.reset(); }

  // In queue order. Consumed blocks are erased from the front, which moves block handles but
  // never the bytes they own.
  std::vector<block> blocks_;
  std::unique_ptr<std::vector<block>> dropped_;  // drop_all()'s blocks, until the next consume()
  std::size_t size_ = 0;
  mutable std::vector<bytes_view> ranges_;
};

}  // namespace wsx::detail
