// wsx::libevent::server: a WebSocket server over TCP or TLS on libevent, either on the
// application's own event_base or on a loop_pool's.
//
//   event_base* base = event_base_new();           // the application's loop, with its own events
//   wsx::libevent::server_options opts;
//   opts.port = 9001;
//   opts.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k,
//                                 wsx::bytes_view data) { s->send(k, data); };
//   wsx::libevent::server srv(base, std::move(opts));
//   if (auto ec = srv.start()) { /* cannot listen */ }
//   event_base_dispatch(base);                     // returns once stop() has finished and the
//                                                  // application's own events are gone
//
// Every connection has one read loop, at most one write in flight and one deadline, on the thread
// of its event_base; handlers of one session never run at once. The upgrade hook decides who may
// connect (and as which user); accepted sessions are in table() until they end, whichever way
// they end. stop() shuts down gracefully. See docs/libevent.md.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/observer.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/libevent/loop_pool.hpp"
#include "wsx/libevent/session.hpp"

struct event_base;

namespace wsx::libevent {

namespace detail {
class server_state;
}

struct server_options {
  // Where to listen: an address or host name, and a port (0: any free one; see local_endpoint).
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int backlog = 4096;

  // Limits, deadlines and delivery of every connection (see wsx::config). The core's
  // handshake_timeout also bounds a deferred upgrade decision and, on TLS, the TLS handshake.
  wsx::config config = default_config();
  // Set: every connection on this port speaks TLS (wss://) with this context (certificate and key
  // loaded by the application). The server takes a reference when it is made (SSL_CTX_up_ref),
  // dropped when its last connection is gone, so the application may free its own at once.
  SSL_CTX* tls = nullptr;

  // Decides each upgrade: accept (user id, subprotocol, headers), reject (status, reason) or
  // defer (answer later from any thread through upgrade_context::defer()). Runs on the
  // connection's loop: do slow work elsewhere and defer. Empty: accept all, user id "".
  upgrade_hook on_upgrade;
  // Answers plain HTTP requests (no Upgrade header: a page, a health check, any method); it
  // alone decides config.plain_http, which is on exactly when this is set. Empty: the core
  // answers such requests itself, 426 naming the missing header for a GET, 405 with
  // `Allow: GET` for any other method (also when config.plain_http was set by hand).
  http_handler on_http;
  // open, message (or chunk), ping, pong, drain, close. See wsx::session_handlers.
  session_handlers handlers;
  // Sees every refused or failed handshake (status, reason, peer) and every session's end
  // (code, reason, error, duration), on the connection's loop. Empty: nothing is called.
  // See wsx/common/observer.hpp.
  wsx::server_observer observer;

  // What a send beyond config.max_buffered_output does: drop the message (send returns
  // wsx::errc::output_limit) or close the session with 1008; and the drain handler's low-water
  // mark.
  backpressure_policy backpressure;
  // The user → sessions table and the counters. Null: the server makes its own. Pass shared
  // ones to let several servers (say ws:// and wss://) fill one table.
  std::shared_ptr<connection_table> table;
  std::shared_ptr<stats> counters;

  // After a connection's closing handshake: how long to wait for the peer's FIN (TCP) or
  // close_notify (TLS) before the socket is closed regardless.
  std::chrono::milliseconds linger{2000};
};

class server {
 public:
  // On the application's event_base: the listener, the connections, their timer and one wake-up
  // event go on `base`, which must outlive the server. Make, start and destroy the server on the
  // thread that runs `base` (inside one of its callbacks, or while it is not running); stop(),
  // the sessions and everything else may be used from any thread.
  server(event_base* base, server_options opts);
  // On a loop_pool (which must outlive the server): the listener on the pool's first loop, each
  // accepted connection on the next loop in turn. Every member may be called from any thread.
  server(loop_pool& pool, server_options opts);
  // Drops every connection at once if stop() has not finished (their on_close handlers run, with
  // 1006). On an event_base: synchronously, so that nothing of the server is left on the base
  // afterwards. On a pool: the connections are dropped on their loops right after.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Resolves host:port, binds, listens and starts accepting. Returns the error (address in use,
  // unknown host, permission, the wake-up descriptor could not be made…) or success;
  // errc::invalid_state when called twice or after stop().
  std::error_code start();
  // The bound address (the actual port when options.port was 0). Valid after start().
  endpoint local_endpoint() const;

  // Graceful shutdown, from any thread (not from a signal handler: use an evsignal event): stop
  // accepting; close every open session with 1001, refuse deferred upgrades with 503 and drop
  // handshakes still being read; after `grace`, drop whatever connection is left (its session
  // ends with 1006). `on_stopped` runs once, on the server's (first) loop, when the last
  // connection is gone; if the server has already stopped (or never started), on the calling
  // thread at once. Later calls only add their `on_stopped`. An event_base's dispatch returns
  // once the server has stopped and the application's own events are done as well.
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped = {});

  // The live sessions by user (erased on every close path), and the counters.
  connection_table& table() const noexcept;
  stats& counters() const noexcept;
  // Messages the backpressure policy refused so far.
  std::uint64_t messages_dropped() const noexcept;
  // TCP connections the server holds in any state (handshaking, open, closing, lingering).
  std::size_t connection_count() const noexcept;

 private:
  std::shared_ptr<detail::server_state> state_;
};

}  // namespace wsx::libevent
