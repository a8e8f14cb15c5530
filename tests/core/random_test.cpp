// Tests for detail::random_bytes / next_mask_key: buffers are filled, mask keys are never zero,
// do not repeat, differ between threads, and a fork()ed child does not replay the parent's pool.
#include "detail/random.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace {

using wsx::detail::mask_key;
using wsx::detail::next_mask_key;
using wsx::detail::random_bytes;

std::uint32_t as_u32(const mask_key& k) {
  std::uint32_t v;
  std::memcpy(&v, k.data(), sizeof v);
  return v;
}

std::uint32_t draw() {
  mask_key k{};
  EXPECT_TRUE(next_mask_key(k));
  return as_u32(k);
}

TEST(random, random_bytes_fills_the_whole_span) {
  // A byte the generator never writes keeps the sentinel it was given. Over 32 fills, a written
  // byte equals the sentinel every time with probability 2^-256, so "changed at least once" is a
  // deterministic check in practice, even for 1-byte spans.
  for (std::size_t n : {1u, 3u, 16u, 255u, 256u, 257u, 4096u, 1u << 16}) {
    for (const std::byte sentinel : {std::byte{0x00}, std::byte{0xFF}}) {
      std::vector<bool> written(n, false);
      for (int round = 0; round < 32; ++round) {
        std::vector<std::byte> buf(n, sentinel);
        ASSERT_TRUE(random_bytes(buf));
        for (std::size_t i = 0; i < n; ++i) {
          if (buf[i] != sentinel) written[i] = true;
        }
      }
      const auto missed = std::find(written.begin(), written.end(), false);
      EXPECT_EQ(missed, written.end())
          << "n=" << n << ": byte " << (missed - written.begin()) << " never written";
    }
  }
}

TEST(random, random_bytes_fills_a_large_span) {
  std::vector<std::byte> buf(1u << 20, std::byte{0x00});
  ASSERT_TRUE(random_bytes(buf));
  // 1 MiB of CSPRNG output has ~4096 zero bytes; a missed 4 KiB block would show up as a run.
  std::size_t run = 0, longest = 0;
  for (std::byte b : buf) {
    run = b == std::byte{0x00} ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_LT(longest, 8u);
}

TEST(random, random_bytes_accepts_empty_span) { EXPECT_TRUE(random_bytes({})); }

TEST(random, random_bytes_calls_differ) {
  std::array<std::byte, 16> a{}, b{};  // e.g. two Sec-WebSocket-Key nonces (RFC 6455 §4.1)
  ASSERT_TRUE(random_bytes(a));
  ASSERT_TRUE(random_bytes(b));
  EXPECT_NE(a, b);
}

TEST(random, mask_keys_are_never_zero_and_do_not_repeat) {
  // 100k draws span ~1600 pool refills. With 32-bit keys the expected number of colliding pairs
  // is n^2 / 2^33 ~= 1.2, so allow a handful.
  constexpr std::size_t draws = 100000;
  std::set<std::uint32_t> seen;
  for (std::size_t i = 0; i < draws; ++i) {
    const std::uint32_t k = draw();
    ASSERT_NE(k, 0u) << "all-zero mask key at draw " << i;
    seen.insert(k);
  }
  EXPECT_GE(seen.size(), draws - 10);
}

TEST(random, every_key_byte_varies) {
  // Each of the four key positions takes most of the 256 values over 10k draws (a stuck or
  // mis-indexed byte would show up as a handful of values).
  std::array<std::set<int>, 4> values;
  for (int i = 0; i < 10000; ++i) {
    mask_key k{};
    ASSERT_TRUE(next_mask_key(k));
    for (std::size_t j = 0; j < 4; ++j) values[j].insert(std::to_integer<int>(k[j]));
  }
  for (const auto& v : values) EXPECT_GE(v.size(), 250u);
}

TEST(random, threads_draw_from_their_own_pools) {
  constexpr int per_thread = 2000;
  std::vector<std::uint32_t> a, b;
  auto run = [](std::vector<std::uint32_t>& out) {
    for (int i = 0; i < per_thread; ++i) {
      mask_key k{};
      if (!next_mask_key(k)) return;
      out.push_back(as_u32(k));
    }
  };
  std::thread ta(run, std::ref(a));
  std::thread tb(run, std::ref(b));
  ta.join();
  tb.join();
  ASSERT_EQ(a.size(), static_cast<std::size_t>(per_thread));
  ASSERT_EQ(b.size(), static_cast<std::size_t>(per_thread));
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<std::uint32_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  EXPECT_LE(common.size(), 2u);  // expected ~0.001 by chance; identical pools would give 2000
}

TEST(random, forked_child_does_not_replay_parent_keys) {
  (void)draw();  // the pool now holds unused keys that the child would inherit
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  constexpr int count = 32;
  if (pid == 0) {
    close(fds[0]);
    std::array<std::uint32_t, count> keys{};
    for (auto& k : keys) k = draw();
    const auto* p = reinterpret_cast<const char*>(keys.data());
    std::size_t left = sizeof keys;
    while (left > 0) {
      const ssize_t w = write(fds[1], p, left);
      if (w <= 0) _exit(1);
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    _exit(0);
  }
  close(fds[1]);
  std::array<std::uint32_t, count> child{};
  auto* p = reinterpret_cast<char*>(child.data());
  std::size_t got = 0;
  while (got < sizeof child) {
    const ssize_t r = read(fds[0], p + got, sizeof child - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, sizeof child);

  std::array<std::uint32_t, count> parent{};
  for (auto& k : parent) k = draw();
  std::sort(child.begin(), child.end());
  std::sort(parent.begin(), parent.end());
  std::vector<std::uint32_t> common;
  std::set_intersection(child.begin(), child.end(), parent.begin(), parent.end(),
                        std::back_inserter(common));
  EXPECT_TRUE(common.empty()) << common.size() << " keys shared between parent and child";
}

}  // namespace
