// Input buffer. The owned copy is a vector read from owned_pos_; appending compacts it first
// when the decoded front is all of it (clear) or more than half (erase), so repeated partial
// frames cost amortised O(1) per byte. A lent buffer replaces the copy as the source while it
// is lent (the copy is empty then: lend() requires it), so unread() is one of two spans and
// never a mix. give_back() copies what the connection still needs before the caller reuses its
// buffer: the unread rest, or — when events not pulled yet point into the buffer — all of it,
// with a relocation for those events' spans.
#include "detail/input_buffer.hpp"

#include <utility>

namespace wsx::detail {

std::span<std::byte> input_buffer::unread() noexcept {
  if (lent()) return lent_.subspan(lent_pos_);
  return {owned_.data() + owned_pos_, owned_.size() - owned_pos_};
}

void input_buffer::advance(std::size_t n) noexcept {
  if (lent()) {
    lent_pos_ += n;
  } else {
    owned_pos_ += n;
  }
}

void input_buffer::discard() noexcept {
  owned_pos_ = owned_.size();
  lent_pos_ = lent_.size();
}

bool input_buffer::empty() const noexcept {
  return owned_pos_ == owned_.size() && lent_pos_ == lent_.size();
}

void input_buffer::append(bytes_view in) {
  if (owned_pos_ == owned_.size()) {
    owned_.clear();
    owned_pos_ = 0;
  } else if (owned_pos_ > owned_.size() / 2) {
    owned_.erase(owned_.begin(), owned_.begin() + static_cast<std::ptrdiff_t>(owned_pos_));
    owned_pos_ = 0;
  }
  owned_.insert(owned_.end(), in.begin(), in.end());
}

void input_buffer::lend(std::span<std::byte> in) noexcept {
  owned_.clear();
  owned_pos_ = 0;
  lent_ = in;
  lent_pos_ = 0;
}

relocation input_buffer::give_back(keep k) {
  if (!lent()) return {};
  const std::span<std::byte> b = std::exchange(lent_, {});
  const std::size_t pos = std::exchange(lent_pos_, 0);
  owned_.clear();
  owned_pos_ = 0;
  if (k == keep::nothing) return {};
  if (k == keep::unread) {
    owned_.assign(b.begin() + static_cast<std::ptrdiff_t>(pos), b.end());
    return {};
  }
  owned_.assign(b.begin(), b.end());
  owned_pos_ = pos;
  return {b.data(), b.data() + b.size(), owned_.data()};
}

void input_buffer::shrink_to_fit() noexcept {
  if (lent() || owned_pos_ != owned_.size()) return;
  std::vector<std::byte>().swap(owned_);
  owned_pos_ = 0;
}

}  // namespace wsx::detail
