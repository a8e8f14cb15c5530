// What an application hands to a transport's server or client, whichever transport it is: the
// session handlers, the server's upgrade hook (its context, its decision, and the handle that
// answers a deferred upgrade from any thread) and the plain-HTTP handler.
//
// This is the application's side of the transport seam. The transport's side — the contract a
// transport implements (transport_io) and the pump that drives a wsx::connection for it — lives in
// transports/common/src and is not installed (see transports/common/src/pump.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wsx/common/session.hpp"
#include "wsx/events.hpp"
#include "wsx/types.hpp"

namespace wsx {

class pump;  // the transport-independent driver of one connection (internal)

// ---- application handlers ------------------------------------------------------------------
// Run on the session's loop (its strand), one at a time per session; never two at once for one
// session. Spans and string_views are valid until the handler returns; copy what you keep.
// Calling the session's members (send, close…) from inside a handler is fine. Every handler may
// be left empty. Handlers should not throw: an exception leaves the pump through the transport.
struct session_handlers {
  // The upgrade finished: the session may send. `opened` holds the agreed subprotocol (and, on a
  // client, the server's 101 response headers).
  std::function<void(const session_ptr&, const opened&)> on_open;
  // A whole message (config::delivery == whole_messages, the transports' default).
  std::function<void(const session_ptr&, message_kind, bytes_view)> on_message;
  // Part of a message as it arrives (config::delivery == chunks): streaming delivery.
  std::function<void(const session_ptr&, const message_chunk&)> on_chunk;
  // A ping arrived (its pong is already queued) / a pong arrived.
  std::function<void(const session_ptr&, bytes_view)> on_ping;
  std::function<void(const session_ptr&, bytes_view)> on_pong;
  // buffered_amount() fell to backpressure_policy::low_water_mark or below after having been
  // above it: a good moment to resume sending.
  std::function<void(const session_ptr&)> on_drain;
  // The session ended (exactly once; not at all if the event loop is destroyed first): the
  // peer's (or our) close code and reason, and `ec` saying why when it was not a normal closing
  // handshake (errc::heartbeat_timeout, errc::eof_without_close, errc::write_timeout, a
  // handshake error on a client…). The session is already out of the connection table and its
  // commands return errc::closed.
  std::function<void(const session_ptr&, close_code, std::string_view reason, std::error_code)>
      on_close;
  // Client only: the connection never opened (name resolution, TCP, TLS — e.g. "certificate
  // verify failed" — or the server refused the upgrade: then status, headers and body are the
  // server's response). Runs just before on_close.
  std::function<void(const session_ptr&, const rejected&)> on_connect_error;
};

// ---- the server's upgrade hook ---------------------------------------------------------------

// What the hook answers: accept (with a user id for the connection table, an optional
// subprotocol and extra 101 headers), reject (HTTP status 400-599 and a one-line reason sent as
// the body), or defer (answer later through upgrade_context::defer()).
struct upgrade_decision {
  enum class verdict : std::uint8_t { accept, reject, defer };
  verdict what = verdict::accept;
  std::string user_id;                // accept: the session's user_id(), "" for none
  std::string subprotocol;            // accept: "" or one of the request's offers
  int status = 0;                     // reject
  std::string reason;                 // reject
  std::vector<header_field> headers;  // accept: added to the 101; reject: to the error response

  static upgrade_decision accept(std::string user_id = {}, std::string subprotocol = {},
                                 std::vector<header_field> headers = {});
  static upgrade_decision reject(int status, std::string reason,
                                 std::vector<header_field> headers = {});
  static upgrade_decision defer();
};

// The answer to a deferred upgrade, for any thread. Copyable; the first answer that reaches the
// connection wins and later ones are ignored. If nobody answers before config::handshake_timeout,
// the core refuses the upgrade with 503 on its own.
class pending_upgrade {
 public:
  pending_upgrade() = default;
  // Queue the answer on the connection's loop. Returns errc::closed when the connection is gone
  // (or for a default-constructed handle), errc::invalid_argument for a `defer` decision,
  // otherwise success — the answer is applied asynchronously and ignored if the handshake has
  // ended meanwhile (deadline, peer gone).
  std::error_code complete(upgrade_decision d) const;
  std::error_code accept(std::string user_id = {}, std::string subprotocol = {},
                         std::vector<header_field> headers = {}) const {
    return complete(
        upgrade_decision::accept(std::move(user_id), std::move(subprotocol), std::move(headers)));
  }
  std::error_code reject(int status, std::string reason,
                         std::vector<header_field> headers = {}) const {
    return complete(upgrade_decision::reject(status, std::move(reason), std::move(headers)));
  }

 private:
  friend class upgrade_context;
  explicit pending_upgrade(std::weak_ptr<pump> p) noexcept : pump_(std::move(p)) {}
  std::weak_ptr<pump> pump_;
};

// What the hook sees. Valid only during the hook call; copy what you keep. Made by the transport.
class upgrade_context {
 public:
  // Path, query, headers, offered subprotocols (upgrade_request::header() looks one up).
  const upgrade_request& request() const noexcept { return request_; }
  // "ip:port" of the peer.
  std::string_view remote_endpoint() const noexcept { return remote_; }
  // A handle to answer later from any thread; return upgrade_decision::defer() from the hook.
  pending_upgrade defer() const { return pending_upgrade(pump_); }

 private:
  friend class pump;
  upgrade_context(const upgrade_request& req, std::string_view remote, std::weak_ptr<pump> p)
      : request_(req), remote_(remote), pump_(std::move(p)) {}
  const upgrade_request& request_;
  std::string_view remote_;
  std::weak_ptr<pump> pump_;
};

using upgrade_hook = std::function<upgrade_decision(const upgrade_context&)>;

// ---- plain HTTP ------------------------------------------------------------------------------

// A plain HTTP answer (config::plain_http): name the Content-Type in `headers` yourself.
struct http_response {
  int status = 404;
  std::vector<header_field> headers;
  std::string body;
};
using http_handler =
    std::function<http_response(const http_request&, std::string_view remote_endpoint)>;

}  // namespace wsx
