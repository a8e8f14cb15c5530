// What the echo client drivers of every transport share (asio_echo_client,
// libevent_echo_client): the command line and the case loop of the conformance driver, and the
// options of one connection — the conformance limits, --deflate, close_slow_consumer, a handler
// that echoes every message with its own opcode and keeps the last text one, the connect error
// and (--verbose) the close on stderr. Every transport's client_options has the fields filled
// here (config, backpressure, handlers), so one template fills any of them; the driver only
// makes the client on its loop, connects and runs the loop until the connection is over.
#pragma once

#include <signal.h>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "wsx/common/handlers.hpp"
#include "wsx/config.hpp"

#include "conformance_driver.hpp"

namespace examples {

struct echo_client_args {
  std::string base_url;  // ws://host:port without a trailing '/'
  bool verbose = false;
  bool deflate = false;
};

// The options of one connection to `target`: `opened` is set when it opens; `last_text`, when
// set, receives the last text message.
template <class ClientOptions>
ClientOptions echo_client_options(const char* program, const echo_client_args& args,
                                  const std::string& target, bool& opened, std::string* last_text) {
  ClientOptions opts;  // its config: the transport's default_config(), whole messages
  apply_conformance_limits(opts.config);
  opts.config.deflate.enabled = args.deflate;
  opts.backpressure.action = wsx::backpressure::close_slow_consumer;
  opts.handlers.on_open = [&opened](const wsx::session_ptr&, const wsx::opened&) { opened = true; };
  opts.handlers.on_message = [last_text](const wsx::session_ptr& s, wsx::message_kind kind,
                                         wsx::bytes_view payload) {
    if (last_text != nullptr && kind == wsx::message_kind::text) {
      *last_text = std::string(wsx::as_string(payload));
    }
    s->send(kind, payload);
  };
  opts.handlers.on_connect_error = [program, target](const wsx::session_ptr&,
                                                     const wsx::rejected& r) {
    std::fprintf(stderr, "%s: %s: %s%s%s\n", program, target.c_str(), r.reason.c_str(),
                 r.body.empty() ? "" : ": ", r.body.c_str());
  };
  if (args.verbose) {
    opts.handlers.on_close = [target](const wsx::session_ptr&, wsx::close_code code,
                                      std::string_view reason, std::error_code ec) {
      std::fprintf(stderr, "[%s] closed %u '%.*s'%s%s\n", target.c_str(),
                   static_cast<unsigned>(code), static_cast<int>(reason.size()), reason.data(),
                   ec ? " " : "", ec ? ec.message().c_str() : "");
    };
  }
  return opts;
}

// Runs one connection to args.base_url + target until it is over (see connection_runner).
using echo_connection = std::function<bool(const echo_client_args& args, const std::string& target,
                                           std::string* last_text)>;

// The whole main() of an echo client driver: `--agent NAME [--verbose] [--deflate] ws://…`
// (parse_driver_options), then every case with `run`. Returns the process exit status.
inline int run_echo_client(const char* program, int argc, char** argv, const echo_connection& run) {
  driver_options parsed;
  const auto read_url = [](std::string_view url) {
    return url.starts_with("ws://") ? std::string() : std::string("is not a ws:// URL");
  };
  if (const auto status = parse_driver_options(program, argc, argv, parsed, read_url)) {
    return *status;
  }
  echo_client_args args;
  args.base_url = parsed.url;
  while (args.base_url.ends_with('/')) args.base_url.pop_back();
  args.verbose = parsed.verbose;
  args.deflate = parsed.deflate;
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already
  return run_conformance_cases(program, parsed.agent,
                               [&](const std::string& target, std::string* last_text) {
                                 return run(args, target, last_text);
                               });
}

}  // namespace examples
