// The chat's front door: which WebSocket upgrades are let in (a JWT in ?token=, checked on a
// worker thread) and the plain HTTP pages (the chat page, a health check, a token check for
// the page's login form, the server's counters for Prometheus). Transport-independent: its
// members fit wsx's upgrade_hook and http_handler, which every transport's server takes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/stats.hpp"

#include "worker_pool.hpp"

namespace chat {

class gate {
 public:
  // Tokens are HS256 JWTs signed with `secret`; `workers` run the checks. `workers` must outlive
  // the gate and every upgrade it deferred; `counters` and `table` (the server's, for /metrics)
  // must outlive the gate.
  gate(std::string secret, worker_pool& workers, const wsx::stats& counters,
       const wsx::connection_table& table);

  // The upgrade hook. /ws with a token: deferred, and answered from a worker thread — 101 with
  // the token's "sub" as user id, or 401 with the verifier's reason ("token expired at …",
  // "bad signature" …), or 403 for a user id the chat does not allow. No token: 401 at once.
  // Any other path: 404.
  wsx::upgrade_decision upgrade(const wsx::upgrade_context& ctx);

  // The plain HTTP handler: GET / → the page, /healthz → "ok", /api/whoami?token=… → 200
  // {"user":…,"exp":…} or 401 {"error":reason}, /metrics → the counters in the Prometheus text
  // format, /ws without an upgrade → 426, else 404.
  wsx::http_response http(const wsx::http_request& req) const;

  // A token for `user` valid for `ttl` from now (the demo's ready-made logins).
  std::string token_for(std::string_view user, std::chrono::seconds ttl) const;

 private:
  // The outcome of a token check: status 0 and the user id, or the HTTP status and why.
  struct verdict {
    int status = 0;
    std::string user;
    std::string reason;
    std::int64_t expires = 0;
  };
  verdict check(std::string_view token) const;

  std::string secret_;
  worker_pool& workers_;
  const wsx::stats& counters_;
  const wsx::connection_table& table_;
};

// Seconds since the Unix epoch (JWT NumericDate).
std::int64_t unix_seconds();

}  // namespace chat
