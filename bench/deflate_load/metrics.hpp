// deflate_load's measurements: a latency histogram and the CPU and memory readings of this
// process, the server under test and the whole machine (Linux /proc).
#pragma once

#include <cstdint>
#include <vector>

namespace deflate_load {

std::uint64_t now_ns();

// Log-linear histogram of nanosecond values: exact below 64, then 32 buckets per power of two
// (about 3 % resolution).
class histogram {
 public:
  histogram();
  void add(std::uint64_t v);
  void clear();
  // The value at quantile q (0..1), the middle of its bucket; 0 when empty.
  double quantile(double q) const;
  std::uint64_t max() const { return max_; }
  std::uint64_t count() const { return n_; }

 private:
  std::vector<std::uint64_t> b_;
  std::uint64_t n_ = 0, max_ = 0;
};

// CPU time in nanoseconds: this process (user + system), process `pid` (all its threads; 0 when
// it cannot be read) and every CPU of the machine that was not idle.
std::uint64_t self_cpu_ns();
std::uint64_t process_cpu_ns(int pid);
std::uint64_t machine_busy_ns();

// VmRSS of process `pid` in KiB, 0 when it cannot be read.
std::uint64_t rss_kib(int pid);

}  // namespace deflate_load
