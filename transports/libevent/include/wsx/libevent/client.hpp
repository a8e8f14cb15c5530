// wsx::libevent::client: connects to ws:// and wss:// URLs, on the application's event_base or on
// a loop_pool's.
//
//   wsx::libevent::client_options opts;
//   opts.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
//     s->send_text("hi");
//   };
//   opts.handlers.on_connect_error = [](const wsx::session_ptr&, const wsx::rejected& r) {
//     std::fprintf(stderr, "%d %s %s\n", r.status, r.reason.c_str(), r.body.c_str());
//   };
//   wsx::libevent::client c(base, std::move(opts));
//   wsx::session_ptr s = c.connect("wss://example.com/chat?room=1");
//   event_base_dispatch(base);     // returns as soon as the connection (and the app's work) ends
//
// TLS verifies the server's certificate and host name by default, against the system's trust
// store (or options.ca_file), and sends SNI. Sessions are the same as a server's. See
// docs/libevent.md.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/libevent/loop_pool.hpp"
#include "wsx/libevent/session.hpp"

struct event_base;

namespace wsx::libevent {

struct client_options {
  wsx::config config = default_config();
  session_handlers handlers;
  backpressure_policy backpressure;

  // The upgrade request: offered subprotocols (the agreed one is in wsx::opened), an Origin
  // header when not empty, and extra headers (e.g. Authorization: Bearer …).
  std::vector<std::string> subprotocols;
  std::string origin;
  std::vector<header_field> headers;

  // wss://: the TLS context (the client takes a reference). Null: the client makes one that
  // verifies the peer against `ca_file` when set, else the system's default trust store. Host
  // name checking and SNI are applied per connection either way.
  SSL_CTX* tls = nullptr;
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
  // On the application's event_base, which must outlive the client. Make it, connect() and
  // destroy it on the thread that runs `base` (inside one of its callbacks, or while it is not
  // running); the sessions may be used from any thread. Nothing of the client keeps
  // event_base_dispatch() running once its connections have ended. Throws std::system_error when
  // `base` is null or the wake-up descriptor (an eventfd) cannot be made.
  client(event_base* base, client_options opts);
  // On a loop_pool (which must outlive the client): each connection on the next loop in turn.
  // Every member may be called from any thread.
  client(loop_pool& pool, client_options opts);
  // Drops the client's connections that are still open (their on_close handlers run, with 1006):
  // on an event_base at once, on a pool on their loops right after.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Starts connecting to `url` ("ws://host[:port][/path][?query]" or "wss://…") and returns the
  // session at once. Exactly one of
  // on_open or on_connect_error follows, then on_close when the session ends; a malformed URL, a
  // failed name lookup, connect or TLS handshake, and a refused upgrade all arrive as
  // on_connect_error (with the server's status, headers and body for a refusal). Before on_open,
  // send() returns errc::invalid_state and close() cancels the attempt. config.handshake_timeout
  // bounds the whole setup.
  session_ptr connect(std::string_view url);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace wsx::libevent
