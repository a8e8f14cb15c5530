// chat: a WebSocket chat server on wsx::asio::server, with its page built in.
//
// Theory of operation: one io_context run by --threads threads serves everything on one port:
// GET / (the page), /healthz, /api/whoami, and the WebSocket at /ws. Upgrades are let in by a
// JWT in ?token= (gate.cpp: checked on a worker thread, the pending upgrade completed from
// there); sessions land in the server's connection table under the token's "sub", which is
// what the room (room.cpp) uses for presence, room broadcasts and direct messages to every
// device of a user. At start it prints demo logins for alice, bob and carol signed with --secret
// (or a random secret: tokens then die with the process). SIGINT/SIGTERM stop the server
// gracefully (1001 to every session); the process exits 0 once the last connection is gone
// (examples/common/cli.cpp, shared with asio_echo_server).
//
// usage: chat [--host 127.0.0.1] [--port 8080] [--threads 2] [--secret S] [--ping-interval 30]
#include <signal.h>

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "wsx/asio/server.hpp"

#include "common/cli.hpp"
#include "common/command_line.hpp"
#include "gate.hpp"
#include "room.hpp"
#include "worker_pool.hpp"

namespace {

struct options {
  examples::server_options server{.host = "127.0.0.1", .port = 8080, .threads = 2};
  std::string secret;
  unsigned ping_interval = 30;  // seconds; 0: no heartbeat
};

constexpr const char* usage =
    "usage: chat [--host HOST] [--port PORT] [--threads N] [--secret S]\n"
    "            [--ping-interval SECONDS]\n"
    "  --host HOST               address to listen on (default 127.0.0.1)\n"
    "  --port PORT               0-65535 (default 8080); 0 picks a free one\n"
    "  --threads N               threads running the io_context (default 2)\n"
    "  --secret S                HS256 key of the login tokens (default: random, per process)\n"
    "  --ping-interval SECONDS   ping after this much silence (default 30; 0: never)";

// 32 random bytes as hex, from OpenSSL's CSPRNG. Empty if it failed.
std::string random_secret() {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return {};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : raw) {
    out += hex[b >> 4];
    out += hex[b & 0xF];
  }
  return out;
}

// Chat traffic is small: tight limits, and a heartbeat (a ping after `ping_interval` seconds of
// silence, 10 s for the pong) so vanished phones leave the table and the presence list — and so
// a reverse proxy sees traffic before its read timeout (nginx: proxy_read_timeout, 60 s by
// default; see docs/nginx.md).
wsx::config chat_config(unsigned ping_interval) {
  wsx::config cfg = wsx::asio::default_config();
  cfg.max_message_size = 16 * 1024;
  cfg.max_frame_payload = 16 * 1024;
  cfg.max_buffered_output = 4 * 1024 * 1024;
  cfg.ping_interval = std::chrono::seconds(ping_interval);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  examples::command_line cli("chat", usage);
  examples::add_server_options(cli, opt.server);
  cli.add_option("--secret", examples::read_text(opt.secret));
  cli.add_option("--ping-interval", examples::read_count(opt.ping_interval, 0));
  if (const std::optional<int> status = cli.parse(argc, argv)) return *status;
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already
  const bool random_key = opt.secret.empty();
  if (random_key) opt.secret = random_secret();
  if (opt.secret.empty()) {
    std::fprintf(stderr, "chat: no random bytes for a secret; pass --secret\n");
    return 1;
  }

  // Declared before the server, destroyed after it: the workers may still hold pending upgrades
  // and session handles, which stay safe to use once their connections are gone. The workers are
  // joined at the end of main, before `gate` and `room` (which their jobs use) are destroyed.
  chat::worker_pool workers(2);
  auto table = std::make_shared<wsx::connection_table>();
  auto counters = std::make_shared<wsx::stats>();
  chat::gate gate(opt.secret, workers, *counters, *table);
  chat::room room(*table, workers);

  asio::io_context io(static_cast<int>(opt.server.threads));
  wsx::asio::server_options so;
  so.host = opt.server.host;
  so.port = opt.server.port;
  so.single_threaded = opt.server.threads == 1;
  so.config = chat_config(opt.ping_interval);
  so.table = table;
  so.counters = counters;
  so.on_upgrade = [&gate](const wsx::upgrade_context& ctx) { return gate.upgrade(ctx); };
  so.on_http = [&gate](const wsx::http_request& req, std::string_view) { return gate.http(req); };
  so.handlers.on_open = [&room](const wsx::session_ptr& s, const wsx::opened&) { room.joined(s); };
  so.handlers.on_message = [&room](const wsx::session_ptr& s, wsx::message_kind kind,
                                   wsx::bytes_view payload) { room.received(s, kind, payload); };
  so.handlers.on_close = [&room](const wsx::session_ptr& s, wsx::close_code, std::string_view,
                                 std::error_code) { room.left(s); };

  wsx::asio::server srv(io, std::move(so));
  if (!examples::start_listening(srv, opt.server, "chat")) return 1;
  const asio::ip::tcp::endpoint ep = srv.local_endpoint();
  const unsigned port = ep.port();
  // A wildcard address is not something a browser can open: show the loopback one instead.
  const std::string url_host = ep.address().is_unspecified()
                                   ? (ep.address().is_v6() ? "[::1]" : "127.0.0.1")
                                   : examples::host_text(ep.address());
  std::printf("chat page: http://%s:%u/   (demo logins below are valid for 24 h%s)\n",
              url_host.c_str(), port,
              random_key ? " and until the server restarts; --secret keeps them" : "");
  for (const char* user : {"alice", "bob", "carol"}) {
    std::printf("  %-6s http://%s:%u/?token=%s\n", user, url_host.c_str(), port,
                gate.token_for(user, std::chrono::hours(24)).c_str());
  }
  std::fflush(stdout);

  examples::run_until_stopped(io, srv, opt.server, [] {
    std::printf("chat: stopping\n");
    std::fflush(stdout);
  });
  // The jobs refer to `gate` and `room`: let them finish before those are destroyed.
  workers.stop();
  workers.join();
  return 0;
}
