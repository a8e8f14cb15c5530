// Server policies shared by the transports: what to do with a slow consumer, which browser
// origins may open a WebSocket, and which subprotocol to pick.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace wsx {

// What a transport does when a send is refused because the session's buffered output would
// exceed config::max_buffered_output (the core's errc::output_limit). The limit itself lives in
// wsx::config; this only chooses the reaction.
enum class backpressure {
  drop_message,         // refuse this message (send returns errc::output_limit), keep the session
  close_slow_consumer,  // refuse it and close the session with 1008 (policy violation)
};

struct backpressure_policy {
  backpressure action = backpressure::drop_message;
  // Hysteresis for drop_message: after a refusal the session counts as congested until its
  // buffered_amount() drains to this many bytes or fewer; a transport that reports "writable
  // again" (a drain handler) fires then, not at the first byte below the limit.
  std::size_t low_water_mark = 64 * 1024;
};

// Which Origin header values (RFC 6454) may open a WebSocket — the defence against cross-site
// WebSocket hijacking, since browsers send cookies with the upgrade. Empty, it allows no
// origin: add the site's origins, or "*" for any.
class origin_allow_list {
 public:
  origin_allow_list() = default;

  // Adds an origin given as scheme "://" host [":" port], e.g. "https://example.com" or
  // "http://localhost:8080"; "null" (the opaque origin of sandboxed frames and file: pages); or
  // "*" (every origin). Scheme and host compare case-insensitively; a default port (80 for
  // http/ws, 443 for https/wss) equals no port. Returns false and adds nothing when `origin` is
  // none of these (a path, even "/", a query, userinfo, an empty host, a bad port): fix the
  // configuration.
  bool add(std::string_view origin);

  // When true, a request without an Origin header is refused too. Default false: non-browser
  // clients (native apps, servers) send no Origin and are allowed.
  void set_require_origin(bool on) noexcept { require_origin_ = on; }
  bool requires_origin() const noexcept { return require_origin_; }

  // Whether a request whose Origin header is `origin` (nullopt: no header) may proceed.
  // False: answer 403 Forbidden.
  bool allows(std::optional<std::string_view> origin) const;

  // True when nothing has been added (then only requests without Origin are allowed).
  bool empty() const noexcept { return !any_ && allowed_.empty(); }

 private:
  bool any_ = false;
  bool require_origin_ = false;
  std::unordered_set<std::string> allowed_;  // normalized: see add()
};

// The subprotocol a server answers with (RFC 6455 §4.2.2 Sec-WebSocket-Protocol): the first
// entry of `supported` (the server's preference order) that the client also `offered`,
// compared exactly. nullopt when they share none — then accept without a subprotocol, or reject
// if the application requires one.
std::optional<std::string> select_subprotocol(const std::vector<std::string>& offered,
                                              const std::vector<std::string>& supported);

}  // namespace wsx
