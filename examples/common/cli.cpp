// The Asio server examples' shared command line and process life.
//
// A server example parses its own options and hands the shared ones to read_server_option, builds
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

option_read read_server_option(int argc, char** argv, int& i, server_options& opt) {
  const std::string_view arg = argv[i];
  if (arg != "--host" && arg != "--port" && arg != "--threads") return option_read::not_mine;
  if (i + 1 >= argc) return option_read::bad;
  const std::string_view value = argv[++i];
  if (arg == "--host") {
    opt.host = value;
    return option_read::read;
  }
  if (arg == "--port") return parse_number(value, opt.port) ? option_read::read : option_read::bad;
  return parse_number(value, opt.threads) && opt.threads > 0 ? option_read::read : option_read::bad;
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
