// asio_echo_client: the Autobahn-style client driver for a fuzzing server, on wsx::asio::client.
//
// Theory of operation: the fuzzing server judges a client by what it does on the connections the
// driver opens, one at a time: /getCaseCount answers with the number of cases N as a text
// message; /runCase?case=i&agent=A (for i = 1..N) sends traffic that the client must echo until
// the connection closes (failures are part of some cases and are ignored); /updateReports?agent=A
// makes the server write its report. Each connection is one client.connect() on a single-thread
// io_context that is run until the connection's work is done, then restarted for the next one.
// Messages are echoed whole with their own opcode.
//
// usage: asio_echo_client --agent NAME [--verbose] ws://127.0.0.1:PORT
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "wsx/asio/client.hpp"

namespace {

// The poll examples' limits: enough for the conformance suite's 16 MiB echoes.
wsx::config echo_config() {
  wsx::config cfg = wsx::asio::default_config();
  cfg.max_message_size = 64 * 1024 * 1024;
  cfg.max_frame_payload = 64 * 1024 * 1024;
  cfg.max_fragments_per_message = 128 * 1024;
  cfg.max_buffered_output = 256 * 1024 * 1024;
  cfg.ping_interval = std::chrono::seconds(60);
  cfg.pong_timeout = std::chrono::seconds(30);
  return cfg;
}

struct driver {
  std::string base_url;  // ws://host:port without a trailing '/'
  std::string agent;
  bool verbose = false;

  // Runs one connection to base_url + target until it is over; every message is echoed and the
  // last text message is stored in `last_text`. False when the connection never opened.
  bool run(const std::string& target, std::string* last_text = nullptr) const {
    asio::io_context io(1);
    bool opened = false;
    wsx::asio::client_options opts;
    opts.config = echo_config();
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
  driver d;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--agent" && i + 1 < argc) {
      d.agent = argv[++i];
    } else if (arg == "--verbose") {
      d.verbose = true;
    } else if (url.empty() && !arg.starts_with("-")) {
      url = arg;
    } else {
      url.clear();
      break;
    }
  }
  if (url.empty() || d.agent.empty() || !url.starts_with("ws://")) {
    std::fprintf(stderr, "usage: asio_echo_client --agent NAME [--verbose] ws://HOST:PORT\n");
    return 2;
  }
  while (url.ends_with('/')) url.pop_back();
  d.base_url = url;
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already

  std::string count_text;
  if (!d.run("/getCaseCount", &count_text)) {
    std::fprintf(stderr, "asio_echo_client: /getCaseCount failed\n");
    return 1;
  }
  int count = 0;
  const auto [end, ec] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (ec != std::errc{} || end != count_text.data() + count_text.size() || count < 0) {
    std::fprintf(stderr, "asio_echo_client: bad case count '%s'\n", count_text.c_str());
    return 1;
  }
  std::printf("asio_echo_client: %d cases\n", count);
  std::fflush(stdout);

  for (int i = 1; i <= count; ++i) {
    // A case may expect us to fail the connection: its outcome is the server's to judge.
    d.run("/runCase?case=" + std::to_string(i) + "&agent=" + d.agent);
  }
  if (!d.run("/updateReports?agent=" + d.agent)) {
    std::fprintf(stderr, "asio_echo_client: /updateReports failed\n");
    return 1;
  }
  return 0;
}
