// libevent_echo_client: the Autobahn-style client driver for a fuzzing server, on
// wsx::libevent::client.
//
// Theory of operation: examples/common/conformance_driver.cpp walks the fuzzing server's cases
// (/getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A), one connection at a time;
// this file opens each of them: a client attached to a fresh event_base, one connect(), and
// event_base_dispatch(), which returns as soon as the connection is over (wsx leaves nothing on
// the base). Messages are echoed whole with their own opcode.
//
// usage: libevent_echo_client --agent NAME [--verbose] [--deflate] ws://127.0.0.1:PORT
#include <event2/event.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "wsx/libevent/client.hpp"

#include "common/conformance_driver.hpp"

namespace {

struct driver {
  std::string base_url;  // ws://host:port without a trailing '/'
  bool verbose = false;
  bool deflate = false;

  // Runs one connection to base_url + target until it is over; every message is echoed and the
  // last text message is stored in `last_text`. False when the connection never opened.
  bool run(const std::string& target, std::string* last_text = nullptr) const {
    bool opened = false;
    wsx::libevent::client_options opts;
    opts.config = wsx::libevent::default_config();
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
      std::fprintf(stderr, "libevent_echo_client: %s: %s%s%s\n", target.c_str(), r.reason.c_str(),
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
    event_base* base = event_base_new();
    if (base == nullptr) {
      std::fprintf(stderr, "libevent_echo_client: cannot make an event_base\n");
      return false;
    }
    {
      wsx::libevent::client c(base, std::move(opts));
      c.connect(base_url + target);
      event_base_dispatch(base);  // returns when the connection's socket is closed
    }
    event_base_free(base);
    return opened;
  }
};

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* program = "libevent_echo_client";
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
