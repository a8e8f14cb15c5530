// The Asio server examples' shared command line and process life.
//
// A server example adds the shared options to its command_line (add_server_options), builds
// its wsx::asio::server, calls start_listening, then run_until_stopped: an asio::signal_set on
// the io_context turns SIGINT/SIGTERM into a graceful stop, so the process exits 0 by running
// out of work rather than by dying of the signal (scripts/conformance checks the status).
#include "cli.hpp"

#include <signal.h>

#include <cstdio>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/signal_set.hpp>

namespace examples {

void add_server_options(command_line& cli, server_options& opt) {
  cli.add_option("--host", read_text(opt.host));
  cli.add_option("--port", read_port(opt.port));
  cli.add_option("--threads", read_count(opt.threads, 1));
}

std::string host_text(const asio::ip::address& address) {
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

bool start_listening(wsx::asio::server& srv, const server_options& opt, const char* program) {
  if (const std::error_code ec = srv.start()) {
    std::fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", program, opt.host.c_str(),
                 static_cast<unsigned>(opt.port), ec.message().c_str());
    return false;
  }
  const asio::ip::tcp::endpoint ep = srv.local_endpoint();
  std::printf("listening on %s:%u\n", host_text(ep.address()).c_str(),
              static_cast<unsigned>(ep.port()));
  std::fflush(stdout);
  return true;
}

void run_until_stopped(asio::io_context& io, wsx::asio::server& srv, const server_options& opt,
                       const std::function<void()>& on_signal) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    if (on_signal) on_signal();
    srv.stop(stop_grace);
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < opt.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& t : threads) t.join();
}

}  // namespace examples
