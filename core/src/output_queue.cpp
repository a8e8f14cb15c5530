// Output queue: a list of heap blocks, filled at the tail and drained from the front.
//
// Each block owns a fixed buffer and the offsets [begin, end) of its unconsumed bytes. Bytes are
// written once and never moved, so a bytes_view taken from pending() stays valid across any
// number of appends until consume() drops those bytes. A small append bumps the tail's `end`;
// when the tail lacks room a new block starts: a recycled one, or a fresh one of
// max(block_size, n). Consumed standard-size blocks go to a pool of this thread (oversized ones
// are freed), shared by every queue the thread runs, the tail included when the queue empties:
// a steady send/consume rhythm allocates nothing, an idle connection keeps no spare block of
// its own, and a thread serving many connections in turn writes each one's output into the
// same block, still in cache from the previous one. The pool is a cache of memory, nothing
// more: a block freed on one thread may be taken on another.
#include "detail/output_queue.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace wsx::detail {
namespace {

// Standard blocks given back by the queues of this thread, for the next queue that needs one.
class block_pool {
 public:
  std::unique_ptr<std::byte[]> take() {
    if (count_ != 0) return std::move(blocks_[--count_]);
    return std::make_unique_for_overwrite<std::byte[]>(output_queue::block_size);
  }
  void give(std::unique_ptr<std::byte[]> b) noexcept {
    if (count_ < blocks_.size()) blocks_[count_++] = std::move(b);
  }

 private:
  std::array<std::unique_ptr<std::byte[]>, 8> blocks_;  // 128 KiB at most
  std::size_t count_ = 0;
};

thread_local block_pool pool;

}  // namespace

std::span<std::byte> output_queue::append(std::size_t n) {
  if (n == 0) return {};
  if (!blocks_.empty()) {
    block& tail = blocks_.back();
    if (tail.capacity - tail.end >= n) {
      std::byte* p = tail.data.get() + tail.end;
      tail.end += n;
      size_ += n;
      return {p, n};
    }
  }
  return append_to_new_block(n);
}

void output_queue::append_shared(bytes_view bytes, std::shared_ptr<const void> owner) {
  if (bytes.empty()) return;
  if (blocks_.size() == blocks_.capacity()) {
    blocks_.reserve(std::max<std::size_t>(4, 2 * blocks_.size()));
    ranges_.reserve(std::min(max_ranges, blocks_.capacity()));
  }
  // capacity == end: an external block never takes appended bytes.
  block b;
  b.owner = std::move(owner);
  b.ext = bytes.data();
  b.capacity = bytes.size();
  b.end = bytes.size();
  blocks_.push_back(std::move(b));
  size_ += bytes.size();
}

void output_queue::append(bytes_view bytes) {
  if (bytes.empty()) return;
  // Fill what is left of the tail first; the rest goes into one new block of its own size (or a
  // standard one), so a payload spans at most two ranges and is copied exactly once.
  if (!blocks_.empty()) {
    block& tail = blocks_.back();
    const std::size_t k = std::min(tail.capacity - tail.end, bytes.size());
    if (k != 0) {
      std::memcpy(tail.data.get() + tail.end, bytes.data(), k);
      tail.end += k;
      size_ += k;
      bytes = bytes.subspan(k);
      if (bytes.empty()) return;
    }
  }
  std::span<std::byte> dst = append_to_new_block(bytes.size());
  std::memcpy(dst.data(), bytes.data(), bytes.size());
}

// The slow path of append(n): the tail is missing or too small for `n` > 0 bytes.
std::span<std::byte> output_queue::append_to_new_block(std::size_t n) {
  // Grow the block list before touching any block, so that the push_back below cannot throw
  // and a block taken from the pool is never lost. ranges_ grows along, so that pending()
  // never allocates.
  if (blocks_.size() == blocks_.capacity()) {
    blocks_.reserve(std::max<std::size_t>(4, 2 * blocks_.size()));
    ranges_.reserve(std::min(max_ranges, blocks_.capacity()));
  }
  block b;
  b.capacity = std::max(block_size, n);
  b.data = n <= block_size ? pool.take() : std::make_unique_for_overwrite<std::byte[]>(n);
  b.begin = 0;
  b.end = n;
  std::byte* p = b.data.get();
  blocks_.push_back(std::move(b));
  size_ += n;
  return {p, n};
}

void output_queue::recycle(block&& b) noexcept {
  if (!b.ext && b.capacity == block_size) pool.give(std::move(b.data));  // else `b` frees it
}

output_queue::mark output_queue::tail_mark() const noexcept {
  return {blocks_.size(), blocks_.empty() ? 0 : blocks_.back().end, size_};
}

void output_queue::truncate(const mark& m) noexcept {
  assert(m.blocks <= blocks_.size() && m.size <= size_);
  while (blocks_.size() > m.blocks) {
    recycle(std::move(blocks_.back()));
    blocks_.pop_back();
  }
  if (!blocks_.empty()) blocks_.back().end = m.tail_end;
  size_ = m.size;
}

std::span<const bytes_view> output_queue::pending() const {
  ranges_.clear();
  for (const block& b : blocks_) {
    if (ranges_.size() == max_ranges) break;
    if (b.end != b.begin) ranges_.emplace_back(b.base() + b.begin, b.end - b.begin);
  }
  return ranges_;
}

void output_queue::consume(std::size_t n) noexcept {
  release_dropped();
  if (n == 0) return;
  assert(n <= size_);
  n = std::min(n, size_);
  size_ -= n;
  // Walk the blocks that `n` covers entirely; the first one it does not cover keeps the rest.
  auto it = blocks_.begin();
  while (it != blocks_.end() && n >= it->end - it->begin) {
    n -= it->end - it->begin;
    it->begin = it->end;
    ++it;
  }
  if (it != blocks_.end()) it->begin += n;
  for (auto drained = blocks_.begin(); drained != it; ++drained) recycle(std::move(*drained));
  blocks_.erase(blocks_.begin(), it);
}

void output_queue::drop_all() noexcept {
  if (blocks_.empty()) return;
  try {
    if (!dropped_) {
      dropped_ = std::make_unique<std::vector<block>>();
      dropped_->swap(blocks_);  // the vector's capacity moves along
    } else {
      // Dropped twice before any consume() (a handshake refusal queued after a drop): keep both.
      dropped_->reserve(dropped_->size() + blocks_.size());
      for (block& b : blocks_) dropped_->push_back(std::move(b));
      blocks_.clear();
    }
  } catch (const std::bad_alloc&) {
    blocks_.clear();  // out of memory: free now, as before drop_all() kept anything
  }
  size_ = 0;
}

void output_queue::shrink_to_fit() noexcept {
  if (size_ != 0) return;
  for (block& b : blocks_) recycle(std::move(b));
  std::vector<block>().swap(blocks_);
  std::vector<bytes_view>().swap(ranges_);
}

}  // namespace wsx::detail
