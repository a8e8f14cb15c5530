// asio_echo_client: the Autobahn-style client driver for a fuzzing server, on wsx::asio::client.
//
// Theory of operation: examples/common/conformance_driver.cpp walks the fuzzing server's cases
// (/getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A), one connection at a time,
// with the options every transport's driver shares (examples/common/echo_client.hpp: messages
// echoed whole with their own opcode); this file opens each connection: one client.connect() on
// a fresh single-thread io_context that is run until the connection's work is done.
//
// usage: asio_echo_client --agent NAME [--verbose] [--deflate] ws://127.0.0.1:PORT
#include <string>

#include <asio/io_context.hpp>

#include "wsx/asio/client.hpp"

#include "common/echo_client.hpp"

namespace {

constexpr const char* program = "asio_echo_client";

bool run_one(const examples::echo_client_args& args, const std::string& target,
             std::string* last_text) {
  asio::io_context io(1);
  bool opened = false;
  wsx::asio::client c(io, examples::echo_client_options<wsx::asio::client_options>(
                              program, args, target, opened, last_text));
  c.connect(args.base_url + target);
  io.run();  // returns when the connection's socket is closed and nothing else is pending
  return opened;
}

}  // namespace

int main(int argc, char** argv) { return examples::run_echo_client(program, argc, argv, run_one); }
