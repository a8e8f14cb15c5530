// wsx::asio::server: a WebSocket server over TCP or TLS, on an asio::io_context the application
// runs on as many threads as it likes.
//
//   asio::io_context io;
//   wsx::asio::server_options opts;
//   opts.port = 9001;
//   opts.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k,
//                                 wsx::bytes_view data) { s->send(k, data); };
//   wsx::asio::server srv(io, std::move(opts));
//   if (auto ec = srv.start()) { /* cannot listen */ }
//   io.run();                          // or on N threads: each connection has its own strand
//
// Every connection is served on its own strand (or, with server_options::single_threaded, on
// the io_context's one thread): one read loop, at most one write in flight, one timer. The
// upgrade hook decides who may connect (and as which user); accepted sessions are in table()
// until they end, whichever way they end. stop() shuts down gracefully. See docs/asio.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/context.hpp>

#include "wsx/asio/session.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"

namespace wsx::asio {

namespace detail {
class server_state;
}

struct server_options {
  // Where to listen: an address or host name, and a port (0: any free one; see local_endpoint).
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int backlog = ::asio::socket_base::max_listen_connections;
  // The application runs the io_context on exactly one thread. Connections then use the
  // io_context's executor instead of a strand each: every completion runs straight from the
  // scheduler (no second trip through a strand's queue) and an idle connection is ~200 B
  // smaller. Handlers still run one at a time per connection — there is only one thread — and
  // send() and the other session calls stay safe from any thread. Running the io_context on
  // more than one thread with this set is a data race. Off: each connection has its own strand.
  bool single_threaded = false;

  // Limits, deadlines and delivery of every connection (see wsx::config). The core's
  // handshake_timeout also bounds a deferred upgrade decision and, on TLS, the TLS handshake.
  wsx::config config = default_config();
  // Set: every connection on this port speaks TLS (wss://) with this context (certificate and
  // key loaded by the application). Kept alive by the server.
  std::shared_ptr<::asio::ssl::context> tls;

  // Decides each upgrade: accept (user id, subprotocol, headers), reject (status, reason) or
  // defer (answer later from any thread through upgrade_context::defer()). Runs on the
  // connection's strand: do slow work elsewhere and defer. Empty: accept all, user id "".
  upgrade_hook on_upgrade;
  // Answers plain HTTP GETs (no Upgrade header: a page, a health check); setting it switches on
  // config.plain_http. Empty: such requests get the core's 426 naming the missing header.
  http_handler on_http;
  // open, message (or chunk), ping, pong, drain, close. See wsx::session_handlers.
  session_handlers handlers;

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
  // Nothing happens until start(). The io_context must outlive the server's connections.
  server(::asio::io_context& io, server_options opts);
  // Drops every connection at once if stop() was not called (see stop()).
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Resolves host:port, binds, listens and starts accepting on the io_context. Returns the
  // error (address in use, unknown host, permission…) or success; errc::invalid_state when
  // called twice. Call before running the io_context or from any thread.
  std::error_code start();
  // The bound address (the actual port when options.port was 0). Valid after start().
  ::asio::ip::tcp::endpoint local_endpoint() const;

  // Graceful shutdown, from any thread: stop accepting; close every open session with 1001,
  // refuse deferred upgrades with 503 and drop handshakes still being read; after `grace`,
  // drop whatever connection is left (its session ends with 1006). `on_stopped` runs once, on
  // the io_context, when the last connection is gone. Later calls do nothing but add their
  // `on_stopped` to the list. The io_context's run() returns once the application's own work is
  // done as well.
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped = {});

  // The live sessions by user (erased on every close path), and the counters.
  connection_table& table() const noexcept;
  stats& counters() const noexcept;
  // Messages the backpressure policy refused so far.
  std::uint64_t messages_dropped() const noexcept;
  // TCP connections the server holds in any state (handshaking, open, closing, lingering).
  std::size_t connection_count() const;

 private:
  std::shared_ptr<detail::server_state> state_;
};

}  // namespace wsx::asio
