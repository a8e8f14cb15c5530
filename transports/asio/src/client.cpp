// The client: URL in, a session out, the rest on the new connection's strand.
//
// connect() parses the URL, builds the upgrade request (Host from the URL's authority, target,
// origin, subprotocols, headers) and starts a tcp_connection or tls_connection, which resolves,
// connects, shakes hands (TLS) and lets the pump send the request. A URL that does not parse
// still yields a session, whose on_connect_error/on_close report the reason on its strand:
// every failure reaches the application the same way. The TLS context is made on first use
// unless the application supplied one.
#include "wsx/asio/client.hpp"

#include <mutex>
#include <utility>

#include <asio/post.hpp>
#include <asio/ssl/context.hpp>

#include "tcp_connection.hpp"
#include "tls_connection.hpp"
#include "wsx/common/url.hpp"

namespace wsx::asio {

struct client::state {
  state(::asio::io_context& io_context, client_options opts)
      : io(io_context),
        tls(std::move(opts.tls)),
        ca_file(std::move(opts.ca_file)),
        ctx(std::make_shared<detail::connection_context>()) {
    ctx->linger = opts.linger;
    ctx->side = role::client;
    ctx->cfg = opts.config;
    ctx->handlers = std::move(opts.handlers);
    ctx->backpressure = opts.backpressure;
    ctx->table = std::move(opts.table);
    ctx->counters = std::move(opts.counters);
    request.subprotocols = std::move(opts.subprotocols);
    request.origin = std::move(opts.origin);
    request.extra_headers = std::move(opts.headers);
  }

  // The TLS context: the application's, or one made now that verifies the peer against the
  // CA file or the system's trust store. Null with `ec` and `error` set when that fails.
  std::shared_ptr<::asio::ssl::context> tls_context(std::error_code& ec, std::string& error) {
    std::lock_guard lock(mutex);
    if (tls) return tls;
    auto made = std::make_shared<::asio::ssl::context>(::asio::ssl::context::tls_client);
    made->set_verify_mode(::asio::ssl::verify_peer, ec);
    if (!ec) {
      if (ca_file.empty()) {
        made->set_default_verify_paths(ec);
      } else {
        made->load_verify_file(ca_file, ec);
      }
    }
    if (ec) {
      error = (ca_file.empty() ? "cannot load the system's trust store: "
                               : "cannot load the CA file " + ca_file + ": ") +
              ec.message();
      return nullptr;
    }
    tls = std::move(made);
    return tls;
  }

  ::asio::io_context& io;
  std::mutex mutex;  // guards tls
  std::shared_ptr<::asio::ssl::context> tls;
  std::string ca_file;
  std::shared_ptr<detail::connection_context> ctx;
  wsx::client_options request;  // host and target are filled per connection
};

client::client(::asio::io_context& io, client_options opts)
    : state_(std::make_shared<state>(io, std::move(opts))) {}

client::~client() = default;

session_ptr client::connect(std::string_view url) {
  std::error_code ec;
  std::string error;
  std::optional<wsx::ws_url> parsed = wsx::parse_ws_url(url, error);
  if (!parsed) ec = std::make_error_code(std::errc::invalid_argument);
  std::shared_ptr<::asio::ssl::context> tls;
  if (parsed && parsed->tls) {
    tls = state_->tls_context(ec, error);
    if (!tls) parsed.reset();
  }

  using detail::strand_type;
  detail::connection_params<strand_type> p{::asio::make_strand(state_->io), state_->ctx, {}};
  p.remote = parsed ? parsed->authority : std::string(url);
  using socket_type = detail::io_types<strand_type>::socket;
  std::shared_ptr<detail::connection_entry> c;
  if (tls) {
    c = std::make_shared<detail::tls_connection<strand_type>>(socket_type(p.executor),
                                                              std::move(tls), p);
  } else {
    c = std::make_shared<detail::tcp_connection<strand_type>>(socket_type(p.executor), p);
  }
  if (!parsed) return c->start_client_failed(ec, std::move(error));

  detail::client_target target{parsed->host, parsed->port, state_->request};
  target.request.host = parsed->authority;
  target.request.target = parsed->target;
  return c->start_client(std::move(target));
}

}  // namespace wsx::asio
