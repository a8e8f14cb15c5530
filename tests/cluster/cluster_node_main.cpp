// cluster_node: a WebSocket server with a wsx::cluster node, as a process of its own, for the
// tests that need to kill a node (node_kill_test.cpp) and for bench/cluster_bench.cpp. Accepts
// every upgrade as ?user=NAME. Prints "listening on 127.0.0.1:PORT" once both are started;
// SIGTERM or SIGINT stops both cleanly (the node leaves the presence at once), then exit 0.
//
// usage: cluster_node --transport asio|libevent --redis-port P --node NAME --node-timeout-ms N
//                     [--room ROOM]   (every user joins ROOM on this node when a session opens)
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "cluster_nodes.hpp"

namespace {

std::atomic<bool> stop_requested{false};
void on_signal(int) { stop_requested.store(true); }

}  // namespace

int main(int argc, char** argv) {
  cluster_test::transport t = cluster_test::transport::asio;
  unsigned long redis_port = 0;
  unsigned long timeout_ms = 10000;
  std::string name;
  std::string room;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--transport" && (value == "asio" || value == "libevent")) {
      t = value == "asio" ? cluster_test::transport::asio : cluster_test::transport::libevent;
    } else if (flag == "--redis-port") {
      redis_port = std::stoul(value);
    } else if (flag == "--node") {
      name = value;
    } else if (flag == "--room") {
      room = value;
    } else if (flag == "--node-timeout-ms") {
      timeout_ms = std::stoul(value);
    } else {
      std::fprintf(stderr, "cluster_node: %s: bad flag or value '%s'\n", flag.c_str(),
                   value.c_str());
      return 2;
    }
  }
  if (redis_port == 0 || redis_port > 65535 || name.empty()) {
    std::fprintf(stderr,
                 "usage: cluster_node --transport asio|libevent --redis-port P --node NAME "
                 "--node-timeout-ms N\n");
    return 2;
  }
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  ::signal(SIGPIPE, SIG_IGN);
  auto node = cluster_test::make_node(t, static_cast<std::uint16_t>(redis_port), name,
                                      std::chrono::milliseconds(timeout_ms), room);
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(node->port()));
  std::fflush(stdout);
  while (!stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  node->stop();
  return 0;
}
