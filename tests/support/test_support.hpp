// Helpers shared by the core tests: a fake clock, byte/string conversions, and output capture.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "wsx/connection.hpp"

namespace wsx::test {

// A clock the test advances by hand. Starts at an arbitrary non-zero point.
struct fake_clock {
  time_point t = time_point{} + std::chrono::hours(1);
  time_point now() const { return t; }
  void advance(duration d) { t += d; }
};

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

inline std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

inline std::string str(bytes_view b) { return std::string(as_string(b)); }

// All pending output of `c` as one string (does not consume it).
inline std::string text(const output_view& v) {
  std::string out;
  for (const auto& r : v) out += as_string(r);
  return out;
}

// Takes all pending output of `c` (consumes it).
inline std::string drain_output(connection& c, time_point now) {
  std::string out;
  for (;;) {
    auto v = c.pending_output();
    if (v.total_bytes() == 0) break;
    out += text(v);
    c.consume_output(v.total_bytes(), now);
  }
  return out;
}

}  // namespace wsx::test
