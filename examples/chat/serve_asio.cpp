// The chat on wsx::asio::server: one io_context run by --threads threads serves everything on
// one port; with --redis a wsx::cluster::asio_node on the same io_context (a strand of it, no
// thread of its own) makes this server one node of several. SIGINT/SIGTERM stop the node (its
// users leave every node's presence at once) and the server (1001 to every session); the process
// exits 0 once the last connection is gone (examples/common/cli.cpp).
#include <asio/io_context.hpp>

#include "wsx/asio/server.hpp"
#include "wsx/cluster/asio.hpp"

#include "common/cli.hpp"
#include "serve.hpp"

namespace chat {

int serve_asio(const settings& s, app& a) {
  asio::io_context io(static_cast<int>(s.threads));
  wsx::asio::server_options so;
  wire(so, s, a, wsx::asio::default_config());
  so.single_threaded = s.threads == 1;
  wsx::asio::server srv(io, std::move(so));
  const examples::server_options cli_opt{s.host, s.port, s.threads};
  if (!examples::start_listening(srv, cli_opt, "chat")) return 1;
  const asio::ip::tcp::endpoint ep = srv.local_endpoint();
  // A wildcard address is not something a browser can open: show the loopback one instead.
  const std::string url_host = ep.address().is_unspecified()
                                   ? (ep.address().is_v6() ? "[::1]" : "127.0.0.1")
                                   : examples::host_text(ep.address());

  std::unique_ptr<wsx::cluster::asio_node> node;
  if (s.cluster) {
    node = std::make_unique<wsx::cluster::asio_node>(
        io, a.table,
        node_options(s, a, examples::host_text(ep.address()) + ":" + std::to_string(ep.port())));
    if (const std::error_code ec = node->start()) {
      std::fprintf(stderr, "chat: cannot start the cluster node: %s\n", ec.message().c_str());
      return 1;
    }
    a.hall.attach_cluster(node.get());
  }
  print_banner(a, s, url_host, ep.port());
  examples::run_until_stopped(io, srv, cli_opt, [&node] {
    std::printf("chat: stopping\n");
    std::fflush(stdout);
    if (node) node->stop();
  });
  return 0;
}

}  // namespace chat
