// chat: a WebSocket chat server on wsx (Asio or libevent), with its page built in; alone, or as
// one node of several sharing their users through Redis.
//
// Theory of operation: one port serves GET / (the page), /healthz, /api/whoami, /metrics and the
// WebSocket at /ws. Upgrades are let in by a JWT in ?token= (gate.cpp: checked on a worker
// thread, the pending upgrade completed from there); sessions land in the server's connection
// table under the token's "sub", which is what the room (room.cpp) uses for presence, room
// broadcasts and direct messages to every device of a user. --transport picks the server
// (serve_asio.cpp, serve_libevent.cpp); both behave the same. With --redis the server is one node
// of a cluster (wsx::cluster, docs/cluster.md): DMs, room messages and the presence list reach
// users on every node; give every node the same --secret (and a distinct --node). At start it
// prints demo logins for alice, bob and carol signed with --secret (or a random secret: tokens
// then die with the process). SIGINT/SIGTERM stop gracefully (1001 to every session), exit 0.
//
// usage: chat [--host 127.0.0.1] [--port 8080] [--threads 2] [--transport asio|libevent]
//             [--secret S] [--ping-interval 30]
//             [--redis redis://HOST:PORT [--node NAME] [--node-timeout 10]]
#include <signal.h>

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/command_line.hpp"
#include "gate.hpp"
#include "room.hpp"
#include "serve.hpp"
#include "worker_pool.hpp"

namespace {

constexpr const char* usage =
    "usage: chat [--host HOST] [--port PORT] [--threads N] [--transport asio|libevent]\n"
    "            [--secret S] [--ping-interval SECONDS]\n"
    "            [--redis redis://HOST:PORT [--node NAME] [--node-timeout SECONDS]]\n"
    "  --host HOST               address to listen on (default 127.0.0.1)\n"
    "  --port PORT               0-65535 (default 8080); 0 picks a free one\n"
    "  --threads N               threads serving connections (default 2)\n"
    "  --transport T             asio (default) or libevent: the same chat either way\n"
    "  --secret S                HS256 key of the login tokens (default: random, per process;\n"
    "                            every node of a cluster needs the same one)\n"
    "  --ping-interval SECONDS   ping after this much silence (default 30; 0: never)\n"
    "  --redis URL               run as one node of a cluster through this Redis\n"
    "                            (redis://HOST:PORT, HOST an IP address or localhost)\n"
    "  --node NAME               this node's name, unique in the cluster\n"
    "                            (default chat-HOST:PORT of this server)\n"
    "  --node-timeout SECONDS    a node that stops answering leaves the others' presence\n"
    "                            within this time (default 10)";

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

}  // namespace

namespace chat {

wsx::cluster::options node_options(const settings& s, app& a, const std::string& host_port) {
  wsx::cluster::options o = *s.cluster;
  if (o.node.empty()) o.node = "chat-" + host_port;
  room* r = &a.hall;
  o.on_presence = [r] { r->presence_changed(); };
  o.on_redis_state = [name = o.node](bool up, std::error_code ec) {
    const std::string line = "chat: node " + name +
                             (up ? ": Redis reachable\n"
                                 : ": Redis unreachable (" + ec.message() +
                                       "); remote messages fail until it is back\n");
    std::fputs(line.c_str(), stderr);
  };
  return o;
}

void print_banner(const app& a, const settings& s, const std::string& url_host, unsigned port) {
  std::printf("chat page: http://%s:%u/   (demo logins below are valid for 24 h%s)\n",
              url_host.c_str(), port,
              s.random_secret ? " and until the server restarts; --secret keeps them" : "");
  for (const char* user : {"alice", "bob", "carol"}) {
    std::printf("  %-6s http://%s:%u/?token=%s\n", user, url_host.c_str(), port,
                a.front.token_for(user, std::chrono::hours(24)).c_str());
  }
  std::fflush(stdout);
}

}  // namespace chat

int main(int argc, char** argv) {
  chat::settings s;
  std::string secret;
  std::string redis;
  std::string node;
  unsigned node_timeout = 0;
  examples::command_line cli("chat", usage);
  cli.add_option("--host", examples::read_text(s.host));
  cli.add_option("--port", examples::read_port(s.port));
  cli.add_option("--threads", examples::read_count(s.threads, 1));
  cli.add_option("--transport", [&s](std::string_view v) -> std::string {
    if (v == "asio")
      s.via = chat::transport::asio;
    else if (v == "libevent")
      s.via = chat::transport::libevent;
    else
      return "is not a transport (asio or libevent)";
    return {};
  });
  cli.add_option("--secret", examples::read_text(secret));
  cli.add_option("--ping-interval", examples::read_count(s.ping_interval, 0));
  cli.add_option("--redis", [&redis](std::string_view v) -> std::string {
    wsx::cluster::options probe;
    if (wsx::cluster::parse_redis_url(v, probe)) {
      return "is not a redis:// URL (redis://HOST:PORT, HOST an IP address or localhost)";
    }
    redis = v;
    return {};
  });
  cli.add_option("--node", [&node](std::string_view v) -> std::string {
    if (v.empty() || v.size() > 200) return "is not a node name (1-200 bytes)";
    node = v;
    return {};
  });
  cli.add_option("--node-timeout", examples::read_count(node_timeout, 1));
  if (const std::optional<int> status = cli.parse(argc, argv)) return *status;
  if (redis.empty() && (!node.empty() || node_timeout != 0)) {
    return cli.fail("--node and --node-timeout need --redis");
  }
  if (!redis.empty()) {
    wsx::cluster::options o;
    (void)wsx::cluster::parse_redis_url(redis, o);
    o.node = node;
    o.node_timeout = std::chrono::seconds(node_timeout == 0 ? 10 : node_timeout);
    s.cluster = std::move(o);
  }
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already
  s.random_secret = secret.empty();
  if (s.random_secret) secret = random_secret();
  if (secret.empty()) {
    std::fprintf(stderr, "chat: no random bytes for a secret; pass --secret\n");
    return 1;
  }

  // Declared before the server, destroyed after it: the workers may still hold pending upgrades
  // and session handles, which stay safe to use once their connections are gone. The workers are
  // joined at the end of main, before `gate` and `room` (which their jobs use) are destroyed.
  chat::worker_pool workers(2);
  auto table = std::make_shared<wsx::connection_table>();
  auto counters = std::make_shared<wsx::stats>();
  chat::gate gate(secret, workers, *counters, *table);
  chat::room room(*table, workers);
  chat::app a{gate, room, table, counters};
  const int status =
      s.via == chat::transport::asio ? chat::serve_asio(s, a) : chat::serve_libevent(s, a);
  // The jobs refer to `gate` and `room`: let them finish before those are destroyed.
  workers.stop();
  workers.join();
  return status;
}
