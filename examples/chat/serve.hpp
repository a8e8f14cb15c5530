// What the chat's two ways to serve (serve_asio.cpp, serve_libevent.cpp) share: the parsed
// command line, the pieces every server is wired to (gate, room, table, counters), the server
// options both transports fill the same way, the cluster node's options, and the banner printed
// once the server listens.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "wsx/cluster/options.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/config.hpp"

#include "common/observer_log.hpp"
#include "gate.hpp"
#include "room.hpp"

namespace chat {

enum class transport { asio, libevent };

struct settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 2;
  transport via = transport::asio;
  unsigned ping_interval = 30;  // seconds; 0: no heartbeat
  bool random_secret = false;   // the banner says the logins die with the process
  // --redis: run as one node of a cluster (cluster.redis_host/port set, node named).
  std::optional<wsx::cluster::options> cluster;
};

// What a server and a cluster node are wired to; made by main(), outliving both.
struct app {
  gate& front;
  room& hall;
  std::shared_ptr<wsx::connection_table> table;
  std::shared_ptr<wsx::stats> counters;
};

// Chat traffic is small: tight limits, and a heartbeat (a ping after `ping_interval` seconds of
// silence, 10 s for the pong) so vanished phones leave the table and the presence list — and so
// a reverse proxy sees traffic before its read timeout (nginx: proxy_read_timeout, 60 s by
// default; see docs/nginx.md).
inline wsx::config chat_config(wsx::config cfg, unsigned ping_interval) {
  cfg.max_message_size = 16 * 1024;
  cfg.max_frame_payload = 16 * 1024;
  cfg.max_buffered_output = 4 * 1024 * 1024;
  cfg.ping_interval = std::chrono::seconds(ping_interval);
  return cfg;
}

// Fills the fields the Asio and the libevent server options share (same names, same meaning).
template <class ServerOptions>
void wire(ServerOptions& so, const settings& s, app& a, wsx::config base) {
  so.host = s.host;
  so.port = s.port;
  so.config = chat_config(base, s.ping_interval);
  so.table = a.table;
  so.counters = a.counters;
  gate* g = &a.front;
  room* r = &a.hall;
  so.on_upgrade = [g](const wsx::upgrade_context& ctx) { return g->upgrade(ctx); };
  so.on_http = [g](const wsx::http_request& req, std::string_view) { return g->http(req); };
  so.handlers.on_open = [r](const wsx::session_ptr& x, const wsx::opened&) { r->joined(x); };
  so.handlers.on_message = [r](const wsx::session_ptr& x, wsx::message_kind kind,
                               wsx::bytes_view payload) { r->received(x, kind, payload); };
  so.handlers.on_close = [r](const wsx::session_ptr& x, wsx::close_code, std::string_view,
                             std::error_code) { r->left(x); };
  // One line on stderr per refused handshake (a bad token's 401, a proxy that dropped the
  // Upgrade header's 426…) and per session end: the operator's view.
  examples::log_to_stderr(so.observer, "chat");
}

// The cluster node's options for this server (listening on host_port): the node is named
// "chat-HOST:PORT" unless --node named it; presence changes reach the room.
wsx::cluster::options node_options(const settings& s, app& a, const std::string& host_port);

// "listening on HOST:PORT", then the page's URL and one login URL per demo user, flushed.
void print_banner(const app& a, const settings& s, const std::string& url_host, unsigned port);

// Serve until SIGINT/SIGTERM has stopped the server (and the cluster node) and the last
// connection is gone. Returns the exit status: 0, or 1 when the server or node cannot start.
int serve_asio(const settings& s, app& a);
int serve_libevent(const settings& s, app& a);

}  // namespace chat
