// The server's observer: what an operator wants to see of the connections that did not work out
// (every refused or failed handshake) and of every session's end, for logs and metrics. Every
// transport's server_options has a `wsx::server_observer observer` field; leave it empty and it
// costs nothing.
//
//   opts.observer.on_handshake_failure = [](const wsx::handshake_failure& f) {
//     std::fprintf(stderr, "[%.*s] refused %d (%s): %.*s\n", …);
//   };
//
// Both callbacks run on the connection's own loop thread (its strand in the Asio transport),
// one at a time per connection, like the session handlers; different connections may call them
// at the same time from different threads, so whatever they share needs its own
// synchronisation (a log line per fprintf is fine). The string_views in an event are valid
// until the callback returns: copy what you keep. They should not throw and should be quick —
// they delay that connection (and others on a loop with few threads).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <system_error>

#include "wsx/common/session.hpp"
#include "wsx/types.hpp"

namespace wsx {

// Who or what ended a handshake that never became a session.
enum class handshake_failure_source : std::uint8_t {
  request,      // the core refused the request: not a valid RFC 6455 upgrade (400, 405, 426…);
                // `ec` names the check (errc::missing_upgrade, errc::bad_key…)
  limit,        // the request head passed config::max_header_bytes (431, errc::headers_too_large)
  application,  // the upgrade hook rejected it (its status and reason, errc::upgrade_rejected);
                // also the 500 a server answers when the hook's own answer was invalid
  timeout,      // config::handshake_timeout (errc::handshake_timeout): 503 when the hook had not
                // answered, status 0 when the request (or the TLS handshake) never completed
  peer,         // the peer closed or reset the connection before it was answered: status 0,
                // errc::eof_without_close
  transport,    // the TLS handshake (or setting up the socket) failed: status 0, the TLS error
  shutdown,     // the server dropped it while stopping (or being destroyed): 503 for a deferred
                // upgrade, status 0 for a request still being read (errc::closed)
};

// "request", "limit", "application", "timeout", "peer", "transport", "shutdown".
std::string_view to_string(handshake_failure_source s) noexcept;

// One handshake that did not become a session. Reported once per such connection, except for
// plain HTTP requests that went to the server's HTTP handler: they are not handshakes. (One the
// core refuses before it gets there, such as an HTTP/1.1 request without Host, is reported as a
// `request` failure.)
struct handshake_failure {
  handshake_failure_source source;
  // The HTTP status the client got; 0 when no response was sent (the connection was dropped).
  int status;
  // The reason the client got: the one-line body of the error response (for a 426, the missing
  // header; for a rejection, the hook's reason). With status 0, why nothing was sent.
  std::string_view reason;
  // The specific error: an errc of the core (missing_upgrade, upgrade_rejected,
  // handshake_timeout, eof_without_close, closed…) or the transport's (TLS).
  std::error_code ec;
  // "ip:port" of the peer.
  std::string_view remote_endpoint;
  // From the moment the transport accepted the connection to the failure (the transport's
  // steady clock).
  duration elapsed;
};

// One session's end: exactly once per session that opened, whatever ended it, right after its
// on_close handler (with the same code, reason and error).
struct session_end {
  // The session (already ended: is_open() is false, commands return errc::closed). Its
  // user_id(), id(), remote_endpoint(), user_data<T>() and request() are all still there.
  const session_ptr& session;
  close_code code;          // the close code (1006 when no close frame was exchanged)
  std::string_view reason;  // the close reason
  // Empty for a normal closing handshake started by either side; otherwise why it ended
  // (errc::eof_without_close for a peer that vanished, errc::heartbeat_timeout…).
  std::error_code ec;
  // From the accepted upgrade (the 101) to the end (the transport's steady clock).
  wsx::duration duration;
};

struct server_observer {
  std::function<void(const handshake_failure&)> on_handshake_failure;
  std::function<void(const session_end&)> on_session_end;
};

}  // namespace wsx
