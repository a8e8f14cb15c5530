// The connection's deadlines: one slot per kind, each armed at an absolute time or disarmed.
// The connection decides what each one means; this unit only keeps the times and answers
// "which is earliest" and "which are due".
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "wsx/types.hpp"

namespace wsx::detail {

enum class deadline : std::uint8_t { handshake, ping, pong, idle, write, close };
inline constexpr std::size_t deadline_count = 6;

class deadlines {
 public:
  // Arms `d` at `at`, replacing any earlier setting.
  void arm(deadline d, time_point at) noexcept { at_[index(d)] = at; }
  // Arms `d` at now + after when `after` is positive; disarms it otherwise (0 = feature off).
  void arm_after(deadline d, time_point now, duration after) noexcept;
  void disarm(deadline d) noexcept { at_[index(d)] = never; }
  void disarm_all() noexcept { at_.fill(never); }
  bool armed(deadline d) const noexcept { return at_[index(d)] != never; }
  // True when `d` is armed and its time is at or before `now`.
  bool due(deadline d, time_point now) const noexcept;
  std::optional<time_point> at(deadline d) const noexcept;
  // The earliest armed deadline, nullopt when none is.
  std::optional<time_point> earliest() const noexcept;

 private:
  static constexpr time_point never = time_point::max();
  static constexpr std::size_t index(deadline d) noexcept { return static_cast<std::size_t>(d); }
  std::array<time_point, deadline_count> at_{never, never, never, never, never, never};
};

}  // namespace wsx::detail
