// Theory of operation: time is CLOCK_MONOTONIC; CPU comes from getrusage for this process, from
// fields 14-15 (utime, stime, in clock ticks) of /proc/PID/stat for the server, and from the
// "cpu" line of /proc/stat (all but idle and iowait) for the machine, so that the caller can
// tell how much CPU anything else used during a window. RSS is VmRSS of /proc/PID/status.
#include "metrics.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace deflate_load {
namespace {

constexpr unsigned buckets = 64 + 58 * 32;

std::uint64_t ticks_to_ns(unsigned long long t) {
  static const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<std::uint64_t>(t) * 1000000000ULL / static_cast<std::uint64_t>(hz);
}

}  // namespace

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

histogram::histogram() : b_(buckets) {}

void histogram::add(std::uint64_t v) {
  unsigned i;
  if (v < 64) {
    i = static_cast<unsigned>(v);
  } else {
    const int msb = 63 - __builtin_clzll(v);
    i = 64 + static_cast<unsigned>(msb - 6) * 32 + static_cast<unsigned>((v >> (msb - 5)) & 31);
  }
  ++b_[i];
  ++n_;
  if (v > max_) max_ = v;
}

void histogram::clear() {
  std::fill(b_.begin(), b_.end(), 0);
  n_ = max_ = 0;
}

double histogram::quantile(double q) const {
  if (n_ == 0) return 0;
  std::uint64_t want = static_cast<std::uint64_t>(q * static_cast<double>(n_) + 0.5), acc = 0;
  if (want < 1) want = 1;
  for (unsigned i = 0; i < buckets; ++i) {
    acc += b_[i];
    if (acc < want) continue;
    if (i < 64) return i;
    const unsigned msb = 6 + (i - 64) / 32, sub = (i - 64) % 32;
    const std::uint64_t lo = (1ULL << msb) | (std::uint64_t{sub} << (msb - 5));
    return static_cast<double>(lo) + static_cast<double>(1ULL << (msb - 5)) / 2.0;
  }
  return static_cast<double>(max_);
}

std::uint64_t self_cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto ns = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(t.tv_usec) * 1000ULL;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

std::uint64_t process_cpu_ns(int pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return 0;
  const std::size_t paren = s.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream in(s.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields from 3 (state) on; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return ticks_to_ns(utime + stime);
}

std::uint64_t machine_busy_ns() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long v[10] = {};
  if (!(f >> cpu) || cpu != "cpu") return 0;
  for (auto& x : v) f >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice: guests are in user already.
  return ticks_to_ns(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

std::uint64_t rss_kib(int pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

}  // namespace deflate_load
