// The installed wsx::cluster, used from outside the tree (tests/install/run): a redis:// URL
// read, a node made on an io_context, started (no Redis needs to listen: it keeps retrying),
// then stopped cleanly, after which io_context::run() returns. Prints
// "cluster_check: ok (wsx VERSION)".
#include <cstdio>
#include <memory>

#include "wsx/cluster/asio.hpp"
#include "wsx/version.hpp"

int main() {
  wsx::cluster::options o;
  if (wsx::cluster::parse_redis_url("redis://127.0.0.1:1", o) || o.redis_port != 1) return 1;
  if (wsx::cluster::parse_redis_url("redis://redis.example:6379", o) !=
      wsx::cluster::errc::bad_url) {
    return 1;
  }
  o.node = "install-check";
  asio::io_context io;
  auto table = std::make_shared<wsx::connection_table>();
  wsx::cluster::asio_node node(io, table, o);
  if (node.start()) return 1;
  bool stopped = false;
  node.stop([&stopped] { stopped = true; });
  io.run();
  const wsx::cluster::delivery d = node.send_to_user("alice", wsx::message_kind::text, {});
  if (!stopped || d.remote != wsx::cluster::errc::stopped) {
    std::fprintf(stderr, "cluster_check: stopped %d, %s\n", stopped, d.remote.message().c_str());
    return 1;
  }
  std::printf("cluster_check: ok (wsx %s)\n", WSX_VERSION_STRING);
  return 0;
}
