// Tests for the segmented output queue: edge cases, pointer stability, allocation-free steady
// state, and a rapidcheck model test against a std::deque<std::byte>.
//
// Global operator new/delete are replaced to count allocations; every byte appended comes from a
// position-dependent pattern, so a byte that moved or was dropped shows up as a mismatch.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <new>
#include <vector>

#include "detail/output_queue.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
// Up to four addresses a test watches: a slot is cleared when its block is freed. Plain atomics,
// so the delete hook neither allocates nor locks.
std::array<std::atomic<const void*>, 4> watched{};

void* counted_alloc(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void counted_free(void* p) noexcept {
  for (auto& slot : watched) {
    const void* expected = p;
    if (p != nullptr) slot.compare_exchange_strong(expected, nullptr);
  }
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace {

using wsx::bytes_view;
using wsx::detail::output_queue;
constexpr std::size_t block = output_queue::block_size;

// Byte number `i` of the stream every test appends; mixes the index so that shifts by any
// power of two (a block size, 256) do not reproduce the same bytes.
std::byte pattern(std::size_t i) {
  const auto x = static_cast<std::uint32_t>(i) * 2654435761u;
  return static_cast<std::byte>(x >> 24);
}

// Appends the next `n` pattern bytes, alternating between the two append() overloads.
struct writer {
  std::size_t next = 0;
  std::vector<std::byte> scratch;  // the source of copy_in(), kept to avoid allocating

  void reserve_and_fill(output_queue& q, std::size_t n) {
    std::span<std::byte> s = q.append(n);
    ASSERT_EQ(s.size(), n);
    for (std::byte& b : s) b = pattern(next++);
  }
  void copy_in(output_queue& q, std::size_t n) {
    scratch.resize(n);
    for (std::byte& b : scratch) b = pattern(next++);
    q.append(bytes_view(scratch));
  }
};

std::size_t total(std::span<const bytes_view> ranges) {
  std::size_t n = 0;
  for (const bytes_view& r : ranges) n += r.size();
  return n;
}

// True when the visible ranges hold the pattern from stream position `from` on.
bool holds_pattern(std::span<const bytes_view> ranges, std::size_t from) {
  for (const bytes_view& r : ranges) {
    for (std::byte b : r) {
      if (b != pattern(from++)) return false;
    }
  }
  return true;
}

TEST(output_queue, starts_empty) {
  output_queue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.pending().empty());
}

TEST(output_queue, append_zero_and_consume_zero_change_nothing) {
  output_queue q;
  EXPECT_TRUE(q.append(0).empty());
  q.append(bytes_view{});
  q.consume(0);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.pending().empty());

  writer w;
  w.reserve_and_fill(q, 10);
  EXPECT_TRUE(q.append(0).empty());
  q.append(bytes_view{});
  q.consume(0);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_EQ(q.size(), 10u);
  EXPECT_TRUE(holds_pattern(q.pending(), 0));
}

TEST(output_queue, small_appends_share_one_range) {
  output_queue q;
  writer w;
  for (int i = 0; i < 100; ++i) {
    w.reserve_and_fill(q, 7);
    w.copy_in(q, 3);
  }
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_EQ(q.size(), 1000u);
  EXPECT_TRUE(holds_pattern(q.pending(), 0));
}

TEST(output_queue, a_full_block_then_one_byte_makes_two_ranges) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, block);
  ASSERT_EQ(q.pending().size(), 1u);
  w.reserve_and_fill(q, 1);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].size(), block);
  EXPECT_EQ(r[1].size(), 1u);
  EXPECT_TRUE(holds_pattern(r, 0));
}

TEST(output_queue, reserved_space_is_contiguous_even_past_the_tail_room) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, block - 10);
  // 20 bytes do not fit in the 10 left: they start a block of their own.
  w.reserve_and_fill(q, 20);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].size(), block - 10);
  EXPECT_EQ(r[1].size(), 20u);
  EXPECT_TRUE(holds_pattern(r, 0));
}

TEST(output_queue, append_larger_than_a_block_is_one_range) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 3 * block + 5);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].size(), 3 * block + 5);
  w.reserve_and_fill(q, 1);  // the oversized block is full: a new one starts
  EXPECT_EQ(q.pending().size(), 2u);
  EXPECT_TRUE(holds_pattern(q.pending(), 0));
  q.consume(3 * block + 5);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_TRUE(holds_pattern(q.pending(), 3 * block + 5));
}

TEST(output_queue, oversized_append_into_an_empty_queue_keeps_no_empty_range) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  q.consume(100);  // the queue keeps its (now empty) block
  w.reserve_and_fill(q, 2 * block);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].size(), 2 * block);
  EXPECT_TRUE(holds_pattern(r, 100));
}

TEST(output_queue, copied_payload_fills_the_tail_then_one_block) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  w.copy_in(q, 5 * block);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].size(), block);
  EXPECT_EQ(q.size(), 100 + 5 * block);
  EXPECT_TRUE(holds_pattern(r, 0));
}

TEST(output_queue, consume_exactly_at_block_boundaries) {
  output_queue q;
  writer w;
  for (int i = 0; i < 3; ++i) w.reserve_and_fill(q, block);
  ASSERT_EQ(q.pending().size(), 3u);

  q.consume(block);
  auto r = q.pending();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(q.size(), 2 * block);
  EXPECT_TRUE(holds_pattern(r, block));

  q.consume(block - 1);  // stop one byte short of the next boundary
  r = q.pending();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].size(), 1u);
  EXPECT_TRUE(holds_pattern(r, 2 * block - 1));

  q.consume(1 + block);  // through the boundary to the end
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.pending().empty());

  w.reserve_and_fill(q, 5);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_TRUE(holds_pattern(q.pending(), 3 * block));
}

TEST(output_queue, consume_across_several_blocks_at_once) {
  output_queue q;
  writer w;
  for (int i = 0; i < 10; ++i) w.copy_in(q, block / 2 + 3);
  const std::size_t size = q.size();
  q.consume(size - 7);
  ASSERT_EQ(q.size(), 7u);
  ASSERT_EQ(total(q.pending()), 7u);
  EXPECT_TRUE(holds_pattern(q.pending(), size - 7));
}

TEST(output_queue, exposed_bytes_never_move_while_more_is_appended) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 300);
  const bytes_view first = q.pending()[0];  // copied out: the view, not the span of views
  const std::vector<std::byte> snapshot(first.begin(), first.end());

  // Many appends of mixed sizes: tail room, new blocks, oversized blocks, copies.
  for (std::size_t i = 0; i < 400; ++i) {
    if (i % 3 == 0) {
      w.copy_in(q, (i * 977) % (2 * block));
    } else {
      w.reserve_and_fill(q, (i * 131) % 5000);
    }
    ASSERT_EQ(q.pending()[0].data(), first.data()) << "after append " << i;
  }
  EXPECT_TRUE(std::equal(first.begin(), first.end(), snapshot.begin(), snapshot.end()));
  EXPECT_TRUE(holds_pattern(q.pending(), 0));
}

TEST(output_queue, consuming_the_front_does_not_move_later_bytes) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, block);
  w.reserve_and_fill(q, 1000);
  w.reserve_and_fill(q, 3 * block);
  const std::vector<bytes_view> before(q.pending().begin(), q.pending().end());
  ASSERT_EQ(before.size(), 3u);

  q.consume(block + 10);
  w.copy_in(q, 4 * block);
  auto r = q.pending();
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[0].data(), before[1].data() + 10);
  EXPECT_EQ(r[1].data(), before[2].data());
  EXPECT_TRUE(std::equal(before[2].begin(), before[2].end(), r[1].begin(), r[1].end()));
  EXPECT_TRUE(holds_pattern(r, block + 10));
}

TEST(output_queue, pending_is_capped_and_draining_the_visible_ranges_empties_it) {
  output_queue q;
  writer w;
  constexpr std::size_t blocks = output_queue::max_ranges + 36;
  for (std::size_t i = 0; i < blocks; ++i) w.reserve_and_fill(q, block);
  auto r = q.pending();
  ASSERT_EQ(r.size(), output_queue::max_ranges);
  EXPECT_EQ(total(r), output_queue::max_ranges * block);

  std::size_t consumed = 0;
  int rounds = 0;
  while (!q.empty()) {
    r = q.pending();
    ASSERT_FALSE(r.empty());
    ASSERT_TRUE(holds_pattern(r, consumed));
    const std::size_t n = total(r);
    q.consume(n);
    consumed += n;
    ++rounds;
  }
  EXPECT_EQ(consumed, blocks * block);
  EXPECT_EQ(rounds, 2);
}

TEST(output_queue, queue_reuses_its_block_once_drained) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  const std::byte* base = q.pending()[0].data();
  q.consume(100);
  w.reserve_and_fill(q, 50);
  EXPECT_EQ(q.pending()[0].data(), base);
  q.consume(20);
  q.consume(30);
  EXPECT_EQ(q.append(1).data(), base);
}

// Watches whether the blocks at some addresses get freed.
class free_watch {
 public:
  explicit free_watch(std::initializer_list<const void*> addresses) {
    std::size_t i = 0;
    for (const void* p : addresses) watched.at(i++).store(p);
  }
  ~free_watch() {
    for (auto& slot : watched) slot.store(nullptr);
  }
  free_watch(const free_watch&) = delete;
  free_watch& operator=(const free_watch&) = delete;
  static bool freed(const void* p) {
    for (const auto& slot : watched)
      if (slot.load() == p) return false;
    return true;
  }
};

TEST(output_queue, oversized_blocks_are_freed_once_consumed) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  w.reserve_and_fill(q, 64 * block);  // a block of its own
  w.reserve_and_fill(q, 100);
  ASSERT_EQ(q.pending().size(), 3u);
  const std::byte* big = q.pending()[1].data();
  const free_watch watch{big};
  q.consume(100 + 64 * block);
  // Only standard-size blocks are recycled: a 1 MiB buffer must not linger in an idle connection.
  EXPECT_TRUE(watch.freed(big));
  EXPECT_TRUE(holds_pattern(q.pending(), 100 + 64 * block));
}

TEST(output_queue, blocks_given_back_serve_the_next_queue_of_the_thread) {
  // A connection that goes quiet gives its blocks back; the next busy one takes them instead
  // of allocating, and neither keeps a spare of its own.
  std::vector<const std::byte*> bases;
  {
    output_queue a;
    writer w;
    for (int i = 0; i < 3; ++i) w.reserve_and_fill(a, block);
    for (const auto& range : a.pending()) bases.push_back(range.data());
    a.consume(a.size());
    a.shrink_to_fit();
  }
  output_queue b;
  writer w;
  b.append(1);  // the block list itself may allocate once
  b.consume(1);
  const std::size_t before = allocations.load();
  w.reserve_and_fill(b, block);
  w.reserve_and_fill(b, block);
  EXPECT_EQ(allocations.load(), before);
  for (const auto& range : b.pending())
    EXPECT_NE(std::find(bases.begin(), bases.end(), range.data()), bases.end());
}

TEST(output_queue, dropped_bytes_stay_valid_until_the_next_consume) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  w.reserve_and_fill(q, 2 * block);  // an oversized block too: it is freed, not recycled
  const std::vector<bytes_view> in_flight(q.pending().begin(), q.pending().end());
  ASSERT_EQ(in_flight.size(), 2u);
  const free_watch watch{in_flight[0].data(), in_flight[1].data()};

  q.drop_all();  // a deadline fired while a write held these ranges
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.pending().empty());
  EXPECT_FALSE(watch.freed(in_flight[0].data()));
  EXPECT_FALSE(watch.freed(in_flight[1].data()));
  EXPECT_TRUE(holds_pattern(in_flight, 0));  // still readable, unchanged

  // New output after the drop (a 503 after a handshake timeout) goes to fresh blocks.
  w.reserve_and_fill(q, 10);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_NE(q.pending()[0].data(), in_flight[0].data());
  EXPECT_TRUE(holds_pattern(in_flight, 0));

  q.consume(0);  // the write completed: now the dropped blocks may go
  EXPECT_TRUE(watch.freed(in_flight[1].data()));
  EXPECT_EQ(q.size(), 10u);
}

TEST(output_queue, dropping_twice_before_a_consume_keeps_both) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  const bytes_view first = q.pending()[0];
  q.drop_all();
  w.reserve_and_fill(q, 2 * block);
  const bytes_view second = q.pending()[0];
  const free_watch watch{second.data()};
  q.drop_all();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(watch.freed(second.data()));
  EXPECT_TRUE(holds_pattern(std::vector<bytes_view>{first, second}, 0));
  q.consume(0);
  EXPECT_TRUE(watch.freed(second.data()));
}

// One round of a busy connection: several frames appended, written in partial chunks.
void send_round(output_queue& q, writer& w, std::size_t round) {
  w.copy_in(q, 2 + round % 30);              // a small frame header
  w.copy_in(q, 900 + (round * 37) % 20000);  // a payload, sometimes spanning blocks
  w.reserve_and_fill(q, 14);
  w.copy_in(q, (round * 7919) % 12000);
  while (!q.empty()) {
    auto r = q.pending();
    q.consume(std::min(total(r), std::size_t{7000}));  // a short write
  }
}

TEST(output_queue, steady_state_sending_does_not_allocate) {
  output_queue q;
  writer w;
  w.scratch.reserve(64 * 1024);
  // The first pass reaches the peak number of blocks in flight; the second pass repeats the
  // same traffic and must find every block it needs among the kept ones.
  for (std::size_t round = 0; round < 2000; ++round) send_round(q, w, round);

  const std::size_t before = allocations.load();
  for (std::size_t round = 0; round < 2000; ++round) send_round(q, w, round);
  EXPECT_EQ(allocations.load() - before, 0u);
}

TEST(output_queue, shrink_to_fit_frees_blocks_of_an_empty_queue) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  q.consume(100);
  std::size_t before = allocations.load();
  w.reserve_and_fill(q, 10);
  EXPECT_EQ(allocations.load(), before);  // the kept block
  q.consume(10);

  q.shrink_to_fit();
  EXPECT_TRUE(q.pending().empty());
  before = allocations.load();
  w.reserve_and_fill(q, 10);
  EXPECT_GT(allocations.load(), before);  // had to allocate again
  EXPECT_TRUE(holds_pattern(q.pending(), 110));
}

TEST(output_queue, shrink_to_fit_keeps_queued_bytes) {
  output_queue q;
  writer w;
  for (int i = 0; i < 4; ++i) w.reserve_and_fill(q, block);
  q.consume(2 * block);  // two blocks go back to the pool
  const std::vector<bytes_view> before(q.pending().begin(), q.pending().end());
  q.shrink_to_fit();
  const std::vector<bytes_view> after(q.pending().begin(), q.pending().end());
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].data(), before[0].data());
  EXPECT_EQ(after[1].data(), before[1].data());
  EXPECT_TRUE(holds_pattern(q.pending(), 2 * block));
}

TEST(output_queue, truncate_takes_back_what_was_appended_since_the_mark) {
  output_queue q;
  writer w;
  w.reserve_and_fill(q, 100);
  q.consume(40);  // the mark works on a partly consumed tail block too
  const std::vector<bytes_view> before(q.pending().begin(), q.pending().end());
  const auto size = q.size();
  const auto mark = q.tail_mark();
  const std::size_t resume = w.next;
  // The tail's rest, a new standard block, an oversized block and a shared one.
  w.copy_in(q, block - 100 + 7);
  w.reserve_and_fill(q, 3 * block);
  static const std::byte shared[4] = {};
  q.append_shared(bytes_view(shared, sizeof shared), nullptr);
  w.copy_in(q, 10);
  EXPECT_GT(q.pending().size(), before.size());
  q.truncate(mark);
  EXPECT_EQ(q.size(), size);
  const std::vector<bytes_view> after(q.pending().begin(), q.pending().end());
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].data(), before[0].data());
  EXPECT_EQ(after[0].size(), before[0].size());
  EXPECT_TRUE(holds_pattern(q.pending(), 40));
  // Appending goes on from the mark as if nothing had been appended after it.
  w.next = resume;
  w.copy_in(q, 50);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_EQ(q.size(), size + 50);
  EXPECT_TRUE(holds_pattern(q.pending(), 40));
}

TEST(output_queue, truncate_to_an_empty_mark_empties_the_queue) {
  output_queue q;
  writer w;
  const auto mark = q.tail_mark();
  w.reserve_and_fill(q, 2 * block + 1);
  w.copy_in(q, 5);
  q.truncate(mark);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.pending().empty());
  const auto again = q.tail_mark();
  q.truncate(again);  // nothing appended since: a no-op
  EXPECT_TRUE(q.empty());
}

// ---- model test ------------------------------------------------------------------------------

rc::Gen<std::size_t> append_size() {
  return rc::gen::weightedOneOf<std::size_t>({
      {4, rc::gen::inRange<std::size_t>(0, 200)},
      {2, rc::gen::elementOf(std::vector<std::size_t>{block - 1, block, block + 1, 2 * block})},
      {3, rc::gen::inRange<std::size_t>(0, 100001)},
  });
}

// A range seen in pending() earlier, with the stream position of its first byte.
struct exposed {
  bytes_view bytes;
  std::size_t position;
};

// Checks the queue against the model: sizes, the visible prefix, and the range invariants.
void check_against(const output_queue& q, const std::deque<std::byte>& model) {
  RC_ASSERT(q.size() == model.size());
  RC_ASSERT(q.empty() == model.empty());
  auto r = q.pending();
  RC_ASSERT(r.size() <= output_queue::max_ranges);
  RC_ASSERT(r.empty() == model.empty());
  std::size_t at = 0;
  for (const bytes_view& range : r) {
    RC_ASSERT(!range.empty());
    RC_ASSERT(
        std::equal(range.begin(), range.end(), model.begin() + static_cast<std::ptrdiff_t>(at)));
    at += range.size();
  }
  RC_ASSERT(at <= model.size());
  if (r.size() < output_queue::max_ranges) RC_ASSERT(at == model.size());
}

// Every earlier-exposed byte that is still queued holds its value at its old address.
void check_exposed(const std::map<std::size_t, exposed>& seen, const std::deque<std::byte>& model,
                   std::size_t consumed) {
  for (const auto& entry : seen) {
    const exposed& e = entry.second;
    const std::size_t end = e.position + e.bytes.size();
    if (end <= consumed) continue;
    const std::size_t skip = consumed > e.position ? consumed - e.position : 0;
    const bytes_view live = e.bytes.subspan(skip);
    const auto from = model.begin() + static_cast<std::ptrdiff_t>(e.position + skip - consumed);
    RC_ASSERT(std::equal(live.begin(), live.end(), from));
  }
}

RC_GTEST_PROP(output_queue, behaves_like_a_byte_deque, ()) {
  output_queue q;
  std::deque<std::byte> model;
  writer w;
  std::size_t consumed = 0;             // stream position of model.front()
  std::map<std::size_t, exposed> seen;  // by position; the longest view seen from there
  bool capped = false;                  // pending() hit max_ranges at some point

  auto drop_front = [&](std::size_t n) {
    q.consume(n);
    model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(n));
    consumed += n;
  };

  const int steps = *rc::gen::inRange(1, 40);
  for (int step = 0; step < steps; ++step) {
    const int kind = *rc::gen::inRange(0, 13);
    if (kind == 12) {
      // A burst of block-sized appends: enough blocks to hit the max_ranges cap.
      const int count = *rc::gen::inRange(1, 80);
      const std::size_t from = w.next;
      for (int i = 0; i < count; ++i) {
        w.reserve_and_fill(q, *rc::gen::elementOf(std::vector<std::size_t>{block - 1, block}));
      }
      for (std::size_t i = from; i < w.next; ++i) model.push_back(pattern(i));
    } else if (kind < 6) {
      const std::size_t n = *append_size();
      const std::size_t from = w.next;
      if (kind < 3) {
        w.reserve_and_fill(q, n);
      } else {
        w.copy_in(q, n);
      }
      for (std::size_t i = from; i < w.next; ++i) model.push_back(pattern(i));
    } else if (kind < 9) {
      drop_front(*rc::gen::inRange<std::size_t>(0, q.size() + 1));
    } else if (kind < 11) {
      // Exactly to the end of the first range: a block boundary.
      auto r = q.pending();
      drop_front(r.empty() ? 0 : r[0].size());
    } else {
      q.shrink_to_fit();
    }
    check_against(q, model);
    check_exposed(seen, model, consumed);
    capped = capped || q.pending().size() == output_queue::max_ranges;
    std::erase_if(seen, [&](const auto& entry) {
      return entry.first + entry.second.bytes.size() <= consumed;
    });
    std::size_t at = consumed;
    for (const bytes_view& range : q.pending()) {
      exposed& e = seen[at];
      if (range.size() > e.bytes.size()) e = {range, at};
      at += range.size();
    }
  }

  RC_CLASSIFY(capped, "pending() capped at max_ranges");

  // Writing out whatever pending() shows, again and again, drains the queue.
  int rounds = 0;
  while (!q.empty()) {
    RC_ASSERT(++rounds < 1000);
    drop_front(total(q.pending()));
    check_against(q, model);
    check_exposed(seen, model, consumed);
  }
  RC_ASSERT(model.empty());
}

}  // namespace
