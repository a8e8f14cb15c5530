// RESP2, the Redis protocol, as the cluster speaks it: replies read with hiredis's reader into a
// small tree of our own (so the size limits are ours), and commands written with hiredis's
// formatter. No I/O: bytes in, replies out; arguments in, bytes out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

struct redisReader;

namespace wsx::cluster::detail {

// One reply. `str` holds a bulk string, a status ("OK") or an error ("ERR ..."); `integer` an
// integer; `elements` an array's members.
struct reply {
  enum class kind : std::uint8_t { string, array, integer, nil, status, error };
  kind type = kind::nil;
  long long integer = 0;
  std::string str;
  std::vector<reply> elements;

  bool is_array() const noexcept { return type == kind::array; }
  // The element `i` as text when it is a bulk string or status, else empty.
  std::string_view text(std::size_t i) const noexcept;
};

class resp_reader {
 public:
  // `max_reply_bytes`: the most bytes one reply may take on the wire, counting what is buffered
  // while it is incomplete.
  explicit resp_reader(std::size_t max_reply_bytes);
  ~resp_reader();
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  // Takes `in` (any cut of the stream) and calls `on_reply` with each reply it completes, in
  // order (`on_reply` must not destroy the reader). Returns errc::reply_too_large when a reply
  // passed the limit, errc::protocol_error for bytes that are not RESP (or hiredis's limits,
  // e.g. arrays nested deeper than 7); the reader is then useless: drop the connection. The
  // same error comes back from every later call.
  std::error_code receive(std::span<const char> in, const std::function<void(reply&)>& on_reply);

  // Bytes fed and not yet returned as replies.
  std::size_t buffered() const noexcept;

 private:
  std::optional<reply> next(std::error_code& ec);
  std::error_code fail(std::error_code ec);
  redisReader* reader_;
  std::size_t limit_;
  std::error_code error_;
};

// A command as RESP bytes (an array of bulk strings), appended to `out`.
void format_command(std::string& out, std::span<const std::string_view> args);

}  // namespace wsx::cluster::detail
