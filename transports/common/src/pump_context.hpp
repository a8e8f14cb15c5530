// What every connection of one server (or client) shares: the pump_context, and
// take_server_options(), which fills a server's from any transport's server_options. Internal
// to wsx, part of the transport seam (see transport_io.hpp); pump.hpp includes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/observer.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/config.hpp"
#include "wsx/types.hpp"

namespace wsx {

// ---- what every session of one server (or client) shares -----------------------------------
// Filled before the first connection starts and never changed afterwards (only the counter).
struct pump_context {
  role side = role::server;
  config cfg;
  session_handlers handlers;
  upgrade_hook on_upgrade;   // server; empty: accept every upgrade with user id ""
  http_handler on_http;      // server; cfg.plain_http is on exactly when it is set
  server_observer observer;  // server; empty callbacks are never called
  backpressure_policy backpressure;
  std::shared_ptr<connection_table> table;  // may be null: no table
  std::shared_ptr<stats> counters;          // may be null: no stats
  // Messages refused by the backpressure policy (both actions count here).
  std::atomic<std::uint64_t> messages_dropped{0};
};

// Fills a server's context from the transport's server_options (every transport's has these
// fields: config, on_upgrade, on_http, handlers, observer, backpressure, table, counters) and
// derives what depends on them, so that each such rule is made once, here, for every transport:
// - config::plain_http is on exactly when there is an HTTP handler. Without one the core
//   answers every request without Upgrade itself, whether or not plain_http was set by hand:
//   405 with `Allow: GET` for a method other than GET, 426 naming the missing header for a GET.
// - a null table or counters: the server gets its own.
// The transport adds its own fields (and side-specific ones) afterwards.
template <class ServerOptions>
void take_server_options(pump_context& ctx, ServerOptions& opts) {
  ctx.side = role::server;
  ctx.cfg = opts.config;
  ctx.on_upgrade = std::move(opts.on_upgrade);
  ctx.on_http = std::move(opts.on_http);
  ctx.cfg.plain_http = static_cast<bool>(ctx.on_http);
  ctx.handlers = std::move(opts.handlers);
  ctx.observer = std::move(opts.observer);
  ctx.backpressure = opts.backpressure;
  ctx.table = opts.table ? std::move(opts.table) : std::make_shared<connection_table>();
  ctx.counters = opts.counters ? std::move(opts.counters) : std::make_shared<stats>();
}

}  // namespace wsx
