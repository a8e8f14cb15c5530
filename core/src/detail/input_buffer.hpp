// The bytes a connection has received and not decoded yet. They come from one of two places: a
// copy the connection owns (receive(): the caller keeps its buffer), or the caller's own buffer,
// lent until give_back() (receive_in_place(): decoded where it lies). Decoders read unread() and
// report what they used with advance(); the frame decoder unmasks payloads in place, hence the
// mutable span.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "wsx/types.hpp"

namespace wsx::detail {

// Where give_back() moved a lent buffer, for the spans that still point into it (payloads of
// events not pulled yet). Default: nothing moved.
struct relocation {
  const std::byte* from = nullptr;  // the lent buffer, [from, end)
  const std::byte* end = nullptr;
  const std::byte* to = nullptr;  // its copy, the same length
  // Points `view` at the copy when it points into the lent buffer; leaves it alone otherwise
  // (owned bytes, or empty). `View` is a span or a string_view.
  template <class View>
  void apply(View& view) const noexcept {
    const auto* p = reinterpret_cast<const std::byte*>(view.data());
    const std::less<const std::byte*> before;  // a total order, also for unrelated pointers
    if (before(p, from) || !before(p, end)) return;
    view = View(reinterpret_cast<typename View::const_pointer>(to + (p - from)), view.size());
  }
};

class input_buffer {
 public:
  // The bytes not decoded yet: the lent buffer's rest while one is lent, else the owned copy's.
  std::span<std::byte> unread() noexcept;
  // `n` bytes from the front of unread() were decoded (n <= unread().size()).
  void advance(std::size_t n) noexcept;
  // Drops everything unread (input after a close frame is ignored).
  void discard() noexcept;
  // True when nothing is unread, lent or owned.
  bool empty() const noexcept;
  bool lent() const noexcept { return !lent_.empty(); }

  // Copies `in` behind the unread bytes (a lent buffer must be given back first). The copy's
  // decoded front is dropped first when that is cheap: all of it, or more than half.
  void append(bytes_view in);
  // Decodes from `in` where it lies until give_back(). Requires empty() and a non-empty `in`;
  // `in` must stay valid and untouched by anyone else until then.
  void lend(std::span<std::byte> in) noexcept;

  // What give_back() keeps of the lent buffer.
  enum class keep : unsigned char {
    nothing,  // the input is ignored from now on
    unread,   // the rest not decoded yet (nothing points into the decoded part any more)
    all,      // the whole buffer: spans into its decoded part are still in use
  };
  // Ends a lend, copying what `k` says into the owned copy. With keep::all the returned
  // relocation moves those spans to the copy; otherwise it moves nothing. No lend: does nothing.
  relocation give_back(keep k);

  // Frees the owned copy's memory when nothing is unread and nothing is lent.
  void shrink_to_fit() noexcept;

 private:
  std::vector<std::byte> owned_;
  std::size_t owned_pos_ = 0;
  std::span<std::byte> lent_;
  std::size_t lent_pos_ = 0;
};

}  // namespace wsx::detail
