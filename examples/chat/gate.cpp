// The chat's front door.
//
// Upgrades to /ws are decided in two steps. On the connection's loop the hook only looks: wrong
// path → 404, no token → 401, both at once. Otherwise it defers, hands the token to a worker
// thread and returns; the worker verifies it (in a real service this is where a database or an
// identity provider would be asked, which must never block the loop) and completes the pending
// upgrade from the worker thread. The core's handshake deadline bounds the wait: a worker that
// never answers costs the client a 503, not a stuck socket.
//
// The plain HTTP side serves the page embedded at build time (index_html.hpp is generated from
// index.html by embed.py), so the binary runs from anywhere, and /metrics for a Prometheus
// scrape (open like /healthz: put it behind the proxy's access rules in production).
#include "gate.hpp"

#include <utility>

#include "wsx/common/auth.hpp"

#include "index_html.hpp"
#include "json.hpp"
#include "room.hpp"

namespace chat {
namespace {

wsx::http_response text_response(int status, std::string body) {
  return {status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)};
}

wsx::http_response json_response(int status, std::string body) {
  return {status,
          {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
          std::move(body)};
}

}  // namespace

std::int64_t unix_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

gate::gate(std::string secret, worker_pool& workers, const wsx::stats& counters,
           const wsx::connection_table& table)
    : secret_(std::move(secret)), workers_(workers), counters_(counters), table_(table) {}

gate::verdict gate::check(std::string_view token) const {
  verdict v;
  const wsx::auth::jwt_result r = wsx::auth::verify_hs256(token, secret_, unix_seconds());
  if (r.ec) {
    v.status = wsx::auth::http_status(r.ec);
    v.reason = r.reason;
  } else if (!is_valid_user_id(r.claims.sub)) {
    v.status = 403;
    v.reason = "user ids in this chat are 1-32 of A-Z a-z 0-9 . _ -";
  } else {
    v.user = r.claims.sub;
    v.expires = r.claims.exp.value_or(0);
  }
  return v;
}

wsx::upgrade_decision gate::upgrade(const wsx::upgrade_context& ctx) {
  const wsx::upgrade_request& req = ctx.request();
  if (req.path != "/ws") {
    return wsx::upgrade_decision::reject(404, "no WebSocket endpoint here; the chat is at /ws");
  }
  std::optional<std::string> token =
      wsx::auth::token_from_request(req.query, req.header("Authorization"));
  if (!token) {
    return wsx::upgrade_decision::reject(401, "no token: connect to /ws?token=<JWT>");
  }
  const wsx::pending_upgrade pending = ctx.defer();
  const bool queued = workers_.post([this, pending, t = std::move(*token)] {
    const verdict v = check(t);
    // From the worker thread: the answer is queued on the connection's loop. If the client
    // gave up meanwhile, complete() reports errc::closed and there is nothing left to do.
    if (v.status == 0) {
      pending.accept(v.user);
    } else {
      pending.reject(v.status, v.reason);
    }
  });
  if (!queued) return wsx::upgrade_decision::reject(503, "the server is shutting down");
  return wsx::upgrade_decision::defer();
}

wsx::http_response gate::http(const wsx::http_request& req) const {
  if (req.path == "/" || req.path == "/index.html") {
    // The token travels in the page's URL: never leak it to other sites through Referer.
    return {200,
            {{"Content-Type", "text/html; charset=utf-8"},
             {"Cache-Control", "no-store"},
             {"Referrer-Policy", "no-referrer"},
             {"X-Content-Type-Options", "nosniff"}},
            std::string(assets::index_html)};
  }
  if (req.path == "/healthz") return text_response(200, "ok\n");
  if (req.path == "/metrics") {
    wsx::stats_snapshot snap = counters_.snapshot();
    snap.users = table_.user_count();
    return {200,
            {{"Content-Type", wsx::prometheus_content_type}, {"Cache-Control", "no-store"}},
            wsx::to_prometheus(snap)};
  }
  if (req.path == "/api/whoami") {
    // One HMAC over a short string: cheap enough to run on the loop, unlike the upgrade check
    // above which stands in for slow work.
    const std::optional<std::string> token =
        wsx::auth::token_from_request(req.query, req.header("Authorization"));
    if (!token) {
      return json_response(401, json::object_writer().field("error", "no token").finish());
    }
    const verdict v = check(*token);
    if (v.status != 0) {
      return json_response(v.status, json::object_writer().field("error", v.reason).finish());
    }
    return json_response(
        200, json::object_writer().field("user", v.user).field("exp", v.expires).finish());
  }
  if (req.path == "/ws") {
    return text_response(426,
                         "this is the chat's WebSocket endpoint: open / in a browser, or connect "
                         "with a WebSocket client (Upgrade: websocket header missing)\n");
  }
  return text_response(404, "not found\n");
}

std::string gate::token_for(std::string_view user, std::chrono::seconds ttl) const {
  const std::int64_t now = unix_seconds();
  const std::string payload = json::object_writer()
                                  .field("sub", user)
                                  .field("iat", now)
                                  .field("exp", now + static_cast<std::int64_t>(ttl.count()))
                                  .finish();
  return wsx::auth::sign_hs256(payload, secret_);
}

}  // namespace chat
