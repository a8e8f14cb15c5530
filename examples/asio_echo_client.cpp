// asio_echo_client: the Autobahn-style client driver for a fuzzing server, on wsx::asio::client.
//
// Theory of operation: examples/common/conformance_driver.cpp walks the fuzzing server's cases
// (/getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A), one connection at a time;
// this file opens each of them: one client.connect() on a fresh single-thread io_context that is
// run until the connection's work is done. Messages are echoed whole with their own opcode.
//
// usage: asio_echo_client --agent NAME [--verbose] [--deflate] ws://127.0.0.1:PORT
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "wsx/asio/client.hpp"

#include "common/conformance_driver.hpp"

namespace {

struct driver {
  std::string base_url;  // ws://host:port without a trailing '/'
  bool verbose = false;
  bool deflate = false;

  // Runs one connection to base_url + target until it is over; every message is echoed and the
  // last text message is stored in `last_text`. False when the connection never opened.
  bool run(const std::string& target, std::string* last_text = nullptr) const {
    asio::io_context io(1);
    bool opened = false;
    wsx::asio::client_options opts;
    opts.config = wsx::asio::default_config();
    examples::apply_conformance_limits(opts.config);
    opts.config.deflate.enabled = deflate;
    opts.backpressure.action = wsx::backpressure::close_slow_consumer;
    opts.handlers.on_open = [&](const wsx::session_ptr&, const wsx::opened&) { opened = true; };
    opts.handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind kind,
                                   wsx::bytes_view payload) {
      if (last_text != nullptr && kind == wsx::message_kind::text) {
        *last_text = std::string(wsx::as_string(payload));
      }
      s->send(kind, payload);
    };
    opts.handlers.on_connect_error = [&](const wsx::session_ptr&, const wsx::rejected& r) {
      std::fprintf(stderr, "asio_echo_client: %s: %s%s%s\n", target.c_str(), r.reason.c_str(),
                   r.body.empty() ? "" : ": ", r.body.c_str());
    };
    if (verbose) {
      opts.handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code code,
                                   std::string_view reason, std::error_code ec) {
        std::fprintf(stderr, "[%s] closed %u '%.*s'%s%s\n", target.c_str(),
                     static_cast<unsigned>(code), static_cast<int>(reason.size()), reason.data(),
                     ec ? " " : "", ec ? ec.message().c_str() : "");
      };
    }
    wsx::asio::client c(io, std::move(opts));
    c.connect(base_url + target);
    io.run();  // returns when the connection's socket is closed and nothing else is pending
    return opened;
  }
};

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* program = "asio_echo_client";
  examples::driver_options args;
  const auto read_url = [](std::string_view url) {
    return url.starts_with("ws://") ? std::string() : std::string("is not a ws:// URL");
  };
  if (const auto status = examples::parse_driver_options(program, argc, argv, args, read_url)) {
    return *status;
  }
  driver d;
  d.base_url = args.url;
  while (d.base_url.ends_with('/')) d.base_url.pop_back();
  d.verbose = args.verbose;
  d.deflate = args.deflate;
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already
  return examples::run_conformance_cases(
      program, args.agent,
      [&d](const std::string& target, std::string* last_text) { return d.run(target, last_text); });
}
