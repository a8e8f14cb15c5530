// An indexed binary min-heap of deadlines: one entry per connection that has a time armed, so a
// loop needs one libevent timer (for the earliest entry) instead of one per connection.
//
// Each element stores its own position (the `Index` member, `npos` while not in the heap), so
// moving or removing an entry is O(log n) without a search. An entry is 16 bytes: the time and
// the element. Loop-thread only, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "wsx/types.hpp"

namespace wsx::libevent::detail {

inline constexpr std::uint32_t heap_npos = UINT32_MAX;

// Makes room for one more element, growing by a quarter instead of doubling: the loop's vectors
// hold an entry per connection, and with 10,000 connections doubling leaves 6,384 entries unused
// (16 bytes each) where a quarter leaves at most 2,500, for a few more moves while they grow.
template <class Vector>
void reserve_one_more(Vector& v) {
  if (v.size() < v.capacity()) return;
  v.reserve(v.size() + v.size() / 4 + 16);
}

template <class T, std::uint32_t T::*Index>
class timer_heap {
 public:
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  static bool contains(const T& t) noexcept { return t.*Index != heap_npos; }
  // The time `t` is armed for. Only when contains(t).
  time_point time_of(const T& t) const noexcept { return entries_[t.*Index].at; }
  // The earliest time armed, or nullopt when the heap is empty.
  std::optional<time_point> earliest() const noexcept {
    if (entries_.empty()) return std::nullopt;
    return entries_.front().at;
  }

  // Arms `t` for `at`: inserts it, or moves it if it is already in the heap.
  void set(T& t, time_point at) {
    if (!contains(t)) {
      t.*Index = static_cast<std::uint32_t>(entries_.size());
      reserve_one_more(entries_);
      entries_.push_back({at, &t});
      sift_up(entries_.size() - 1);
      return;
    }
    const std::size_t i = t.*Index;
    const time_point old = entries_[i].at;
    entries_[i].at = at;
    if (at < old) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  }

  // Disarms `t` (nothing when it is not in the heap).
  void erase(T& t) noexcept {
    if (!contains(t)) return;
    const std::size_t i = t.*Index;
    t.*Index = heap_npos;
    const std::size_t last = entries_.size() - 1;
    if (i != last) {
      place(i, entries_[last]);
      entries_.pop_back();
      sift_down(i);
      sift_up(i);
    } else {
      entries_.pop_back();
    }
  }

  // Takes out and returns the earliest element if its time is at or before `now`; null otherwise.
  T* pop_due(time_point now) noexcept {
    if (entries_.empty() || entries_.front().at > now) return nullptr;
    T* t = entries_.front().item;
    erase(*t);
    return t;
  }

  // Gives back the storage of an empty heap.
  void shrink() {
    if (entries_.empty()) std::vector<entry>().swap(entries_);
  }

 private:
  struct entry {
    time_point at;
    T* item;
  };

  void place(std::size_t i, const entry& e) noexcept {
    entries_[i] = e;
    e.item->*Index = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i) noexcept {
    const entry e = entries_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!(e.at < entries_[parent].at)) break;
      place(i, entries_[parent]);
      i = parent;
    }
    place(i, e);
  }
  void sift_down(std::size_t i) noexcept {
    const entry e = entries_[i];
    const std::size_t n = entries_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && entries_[child + 1].at < entries_[child].at) ++child;
      if (!(entries_[child].at < e.at)) break;
      place(i, entries_[child]);
      i = child;
    }
    place(i, e);
  }

  std::vector<entry> entries_;
};

}  // namespace wsx::libevent::detail
