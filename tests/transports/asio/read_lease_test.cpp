// read_lease: the pool of read buffers lent to busy connections. Buffers are distinct, writable
// for `size` bytes, placed at varying cache offsets, reused after their return, and safe to
// take and give back from several threads at once.
#include "read_lease.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace {

using wsx::asio::detail::read_lease;
using wsx::asio::detail::read_lease_pool;

TEST(read_lease, buffers_are_distinct_and_writable_and_come_back) {
  const std::size_t lent_before = read_lease_pool().lent;
  {
    std::vector<read_lease> leases;
    std::set<std::byte*> seen;
    for (int i = 0; i < 300; ++i) {  // more than one mapping's worth
      read_lease l = read_lease::acquire();
      ASSERT_TRUE(l);
      std::memset(l.data(), i & 0xff, read_lease::size);
      EXPECT_TRUE(seen.insert(l.data()).second);
      leases.push_back(std::move(l));
    }
    EXPECT_EQ(read_lease_pool().lent, lent_before + 300);
    for (std::size_t i = 0; i < leases.size(); ++i) {  // nobody wrote over anybody
      const auto expected = static_cast<std::byte>(i & 0xff);
      EXPECT_EQ(leases[i].data()[0], expected);
      EXPECT_EQ(leases[i].data()[read_lease::size - 1], expected);
    }
  }
  EXPECT_EQ(read_lease_pool().lent, lent_before);
}

TEST(read_lease, consecutive_buffers_start_at_different_cache_offsets) {
  std::vector<read_lease> leases;
  std::set<std::uintptr_t> offsets;
  for (int i = 0; i < 16; ++i) {
    leases.push_back(read_lease::acquire());
    offsets.insert(reinterpret_cast<std::uintptr_t>(leases.back().data()) % 4096);
  }
  EXPECT_GT(offsets.size(), 8u);
  for (std::uintptr_t o : offsets) EXPECT_EQ(o % 64, 0u);  // cache-line aligned
}

TEST(read_lease, a_returned_buffer_is_reused_and_arrives_zeroed) {
  std::byte* first = nullptr;
  std::size_t mapped = 0;
  {
    read_lease l = read_lease::acquire();
    first = l.data();
    mapped = read_lease_pool().mapped;
    std::memset(l.data(), 0xab, read_lease::size);
  }
  read_lease again = read_lease::acquire();
  EXPECT_EQ(again.data(), first);  // the pool is a stack: the last one returned comes first
  EXPECT_EQ(again.data()[0], std::byte{0});  // its pages went back to the kernel
  EXPECT_EQ(again.data()[read_lease::size - 1], std::byte{0});
  EXPECT_EQ(read_lease_pool().mapped, mapped);  // nothing new was mapped
}

TEST(read_lease, moving_transfers_ownership_and_reset_returns) {
  const std::size_t lent_before = read_lease_pool().lent;
  read_lease a = read_lease::acquire();
  std::byte* p = a.data();
  read_lease b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(b.data(), p);
  read_lease c = read_lease::acquire();
  c = std::move(b);  // c's own buffer goes back
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(read_lease_pool().lent, lent_before + 1);
  c.reset();
  EXPECT_FALSE(c);
  EXPECT_EQ(read_lease_pool().lent, lent_before);
}

TEST(read_lease, threads_take_and_return_without_sharing_a_buffer) {
  const std::size_t lent_before = read_lease_pool().lent;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      const auto mark = static_cast<std::byte>(t + 1);
      for (int round = 0; round < 2000; ++round) {
        read_lease l = read_lease::acquire();
        if (!l) {
          ++failures[t];
          continue;
        }
        std::memset(l.data(), static_cast<int>(mark), read_lease::size);
        std::this_thread::yield();
        for (std::size_t i = 0; i < read_lease::size; i += 512) {
          if (l.data()[i] != mark) ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  EXPECT_EQ(read_lease_pool().lent, lent_before);
}

}  // namespace
