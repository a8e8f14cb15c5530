// Deadline slots. Disarmed slots hold time_point::max(), so "earliest" is a plain minimum over
// six values and arming or disarming is one store: cheap enough to do after every pump.
#include "detail/deadlines.hpp"

#include <algorithm>

namespace wsx::detail {

void deadlines::arm_after(deadline d, time_point now, duration after) noexcept {
  if (after <= duration::zero()) {
    disarm(d);
    return;
  }
  // Saturate instead of overflowing for huge durations.
  at_[index(d)] = (now >= never - after) ? never - duration(1) : now + after;
}

bool deadlines::due(deadline d, time_point now) const noexcept {
  const auto t = at_[index(d)];
  return t != never && t <= now;
}

std::optional<time_point> deadlines::at(deadline d) const noexcept {
  const auto t = at_[index(d)];
  if (t == never) return std::nullopt;
  return t;
}

std::optional<time_point> deadlines::earliest() const noexcept {
  const auto t = *std::min_element(at_.begin(), at_.end());
  if (t == never) return std::nullopt;
  return t;
}

}  // namespace wsx::detail
