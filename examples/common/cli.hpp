// The command line and process life of the Asio server examples (asio_echo_server, chat): the
// options every one of them takes (--host, --port, --threads, added to a command_line),
// starting the server with the "listening on" line scripts wait for, and running the io_context
// on N threads until SIGINT/SIGTERM has stopped the server gracefully and the last connection
// is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include "wsx/asio/server.hpp"

#include "command_line.hpp"

namespace examples {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
};

// Adds --host HOST, --port PORT (0-65535) and --threads N (N > 0), read into `opt`, which must
// outlive `cli`'s parse().
void add_server_options(command_line& cli, server_options& opt);

// "127.0.0.1", or "[::1]" for an IPv6 address: the host part of a URL or a host:port pair.
std::string host_text(const asio::ip::address& address);

// Starts `srv`. On success prints "listening on HOST:PORT" (the bound port, so --port 0 shows
// the one the system chose) to stdout, flushed, and returns true. On failure prints
// "PROGRAM: cannot listen on HOST:PORT: why" to stderr and returns false: exit 1.
bool start_listening(wsx::asio::server& srv, const server_options& opt, const char* program);

// How long a stopping server gives its sessions to finish their closing handshakes.
inline constexpr std::chrono::seconds stop_grace{2};

// Runs `io` on opt.threads threads (this one included) until it runs out of work. The first
// SIGINT or SIGTERM calls `on_signal` (when set) and then srv.stop(stop_grace): every session
// gets 1001, and once the last connection is gone the io_context has no work left and this
// returns, every thread joined.
void run_until_stopped(asio::io_context& io, wsx::asio::server& srv, const server_options& opt,
                       const std::function<void()>& on_signal = {});

}  // namespace examples
