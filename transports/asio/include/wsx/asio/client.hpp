// wsx::asio::client: connects to ws:// and wss:// URLs on an asio::io_context.
//
//   wsx::asio::client_options opts;
//   opts.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) { s->send_text("hi");
//   }; opts.handlers.on_connect_error = [](const wsx::session_ptr&, const wsx::rejected& r) {
//     std::fprintf(stderr, "%d %s %s\n", r.status, r.reason.c_str(), r.body.c_str());
//   };
//   wsx::asio::client c(io, std::move(opts));
//   wsx::session_ptr s = c.connect("wss://example.com/chat?room=1");
//
// TLS verifies the server's certificate and host name by default, against the system's trust
// store (or options.ca_file), and sends SNI. Sessions are the same as a server's; each one runs
// on its own strand. See docs/asio.md.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>

#include "wsx/asio/session.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"

namespace wsx::asio {

struct client_options {
  wsx::config config = default_config();
  session_handlers handlers;
  backpressure_policy backpressure;

  // The upgrade request: offered subprotocols (the agreed one is in wsx::opened), an Origin
  // header when not empty, and extra headers (e.g. Authorization: Bearer …).
  std::vector<std::string> subprotocols;
  std::string origin;
  std::vector<header_field> headers;

  // wss://: the TLS context. Null: the client makes one that verifies the peer against
  // `ca_file` when set, else the system's default trust store. Host name checking and SNI are
  // applied per connection either way.
  std::shared_ptr<::asio::ssl::context> tls;
  std::string ca_file;

  // Optional: a table to put the client's sessions in (user id ""), and counters.
  std::shared_ptr<connection_table> table;
  std::shared_ptr<stats> counters;

  // When the client ends a connection itself (a close deadline), how long it waits for the
  // server's FIN (TCP) or close_notify (TLS) before closing the socket regardless.
  std::chrono::milliseconds linger{2000};
};

class client {
 public:
  client(::asio::io_context& io, client_options opts);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Starts connecting to `url` ("ws://host[:port][/path][?query]" or "wss://…") and returns the
  // session at once, from any thread. Exactly one of on_open or on_connect_error follows, then
  // on_close when the session ends; a malformed URL, a failed name lookup, connect or TLS
  // handshake, and a refused upgrade all arrive as on_connect_error (with the server's status,
  // headers and body for a refusal). Before on_open, send() returns errc::invalid_state and
  // close() cancels the attempt. config.handshake_timeout bounds the whole setup.
  session_ptr connect(std::string_view url);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace wsx::asio
