// The client: URL in, a session out, the rest on the connection's loop.
//
// connect() parses the URL, builds the upgrade request (Host from the URL's authority, target,
// origin, subprotocols, headers), makes a tcp_connection (or tls_connection) and starts its pump
// (so the session handle exists at once), then hands the connection to its loop — the one
// attached to the application's event_base, or the pool's next — which registers it and looks
// up, connects (wss://: shakes hands) and lets the pump send the request. A URL that does not
// parse, or a TLS context that cannot be made, still yields a session, whose
// on_connect_error/on_close report the reason on its loop: every failure reaches the application
// the same way. Nothing of the client stays on the loop between connections, so an attached
// event_base's dispatch returns once the last connection has ended.
#include "wsx/libevent/client.hpp"

#include <openssl/err.h>

#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "pool_state.hpp"
#include "tls_connection.hpp"
#include "wsx/common/url.hpp"

namespace wsx::libevent {

struct client::state : std::enable_shared_from_this<client::state> {
  state(std::shared_ptr<detail::loop> attached, std::shared_ptr<detail::pool_state> p,
        client_options opts)
      : loop(std::move(attached)),
        pool(std::move(p)),
        ctx(std::make_shared<detail::connection_context>()) {
    ctx->linger = opts.linger;
    if (opts.tls != nullptr && SSL_CTX_up_ref(opts.tls) == 1) ctx->tls = opts.tls;
    ca_file = std::move(opts.ca_file);
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

  const std::shared_ptr<detail::loop>& next_loop() const noexcept {
    return pool ? pool->next_loop() : loop;
  }

  // The TLS context: the application's, or one made now that verifies the peer against the CA
  // file or the system's trust store (kept in ctx, which frees it). Null with `error` set when
  // that fails.
  SSL_CTX* tls_context(std::string& error) {
    std::lock_guard lock(mutex);
    if (ctx->tls != nullptr) return ctx->tls;
    SSL_CTX* made = SSL_CTX_new(TLS_client_method());
    bool ok = made != nullptr && SSL_CTX_set_min_proto_version(made, TLS1_2_VERSION) == 1;
    if (ok) {
      SSL_CTX_set_verify(made, SSL_VERIFY_PEER, nullptr);
      ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(made) == 1
                           : SSL_CTX_load_verify_locations(made, ca_file.c_str(), nullptr) == 1;
    }
    if (!ok) {
      const unsigned long e = ERR_get_error();
      ERR_clear_error();
      const char* why = ERR_reason_error_string(e);
      error = (ca_file.empty() ? "cannot load the system's trust store: "
                               : "cannot load the CA file " + ca_file + ": ") +
              std::string(why != nullptr ? why : "unknown error");
      SSL_CTX_free(made);
      return nullptr;
    }
    ctx->tls = made;
    return made;
  }

  std::shared_ptr<detail::loop> loop;        // attached; null on a pool
  std::shared_ptr<detail::pool_state> pool;  // null when attached
  std::shared_ptr<detail::connection_context> ctx;
  wsx::client_options request;  // host and target are filled per connection
  std::string ca_file;
  std::mutex mutex;  // guards ctx->tls while it is being made
};

client::client(event_base* base, client_options opts) {
  std::error_code ec;
  std::shared_ptr<detail::loop> l = detail::loop::attach(base, ec);
  if (!l) throw std::system_error(ec, "wsx::libevent::client: cannot attach to the event_base");
  state_ = std::make_shared<state>(std::move(l), nullptr, std::move(opts));
}

client::client(loop_pool& pool, client_options opts)
    : state_(std::make_shared<state>(nullptr, detail::pool_access::state(pool), std::move(opts))) {}

client::~client() {
  const auto drop_all = [ctx = state_->ctx](const std::shared_ptr<detail::loop>& l) {
    for (const auto& c : l->connections_of(ctx.get())) c->drop();
  };
  if (state_->pool) {
    for (const auto& l : state_->pool->loops) l->post([l, drop_all] { drop_all(l); });
    return;
  }
  if (!state_->loop) return;
  // Attached: at once, on the application's thread; the loop is this client's alone.
  {
    const detail::loop::scope in_loop(*state_->loop);
    drop_all(state_->loop);
  }
  state_->loop->detach();
}

session_ptr client::connect(std::string_view url) {
  std::string error;
  std::optional<wsx::ws_url> parsed = wsx::parse_ws_url(url, error);
  std::error_code ec;
  if (!parsed) {
    ec = std::make_error_code(std::errc::invalid_argument);
  }
  SSL_CTX* tls = nullptr;
  if (parsed && parsed->tls) {
    tls = state_->tls_context(error);
    if (tls == nullptr) {
      ec = std::make_error_code(std::errc::invalid_argument);
      parsed.reset();
    }
  }
  const std::shared_ptr<detail::loop>& l = state_->next_loop();
  std::string remote = parsed ? parsed->authority : std::string(url);
  std::shared_ptr<detail::connection> c;
  if (tls != nullptr) {
    c = std::make_shared<detail::tls_connection>(l, state_->ctx, -1, std::move(remote), tls);
  } else {
    c = std::make_shared<detail::tcp_connection>(l, state_->ctx, -1, std::move(remote));
  }
  detail::connection::start(c);
  session_ptr handle = c->handle();
  if (!parsed) {
    l->run_or_post([l, s = detail::starting_connection(c), ec, e = std::move(error)]() mutable {
      const std::shared_ptr<detail::connection> started = s.take();
      l->add(started);
      started->fail_client(ec, std::move(e));
    });
    return handle;
  }
  detail::client_target target{parsed->host, parsed->port, state_->request};
  target.request.host = parsed->authority;
  target.request.target = parsed->target;
  l->run_or_post([l, s = detail::starting_connection(c), t = std::move(target)]() mutable {
    const std::shared_ptr<detail::connection> started = s.take();
    l->add(started);
    started->begin_client(started, std::move(t));
  });
  return handle;
}

}  // namespace wsx::libevent
