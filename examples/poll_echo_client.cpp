// poll_echo_client: the Autobahn-style client driver for a fuzzing server, over poll(2).
//
// Theory of operation: examples/common/conformance_driver.cpp walks the fuzzing server's cases
// (/getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A), one connection at a time;
// this file opens each of them. A connection is a blocking TCP connect, then a non-blocking
// socket in a poll_session pumped by a single-fd poll() loop until the core lets the transport
// close (the server's FIN arrived or the close deadline passed). Every message is echoed.
//
// usage: poll_echo_client --agent NAME [--verbose] [--deflate] ws://127.0.0.1:PORT
#include <netdb.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "common/conformance_driver.hpp"
#include "poll_common.hpp"

namespace {

using poll_example::poll_session;
using poll_example::unique_fd;

struct endpoint {
  std::string authority;  // "host:port" as written in the URL: the Host header
  std::string host;       // without brackets, for getaddrinfo
  std::string port;
  std::string base_path;  // path prefix of the URL, without a trailing '/'
};

// Splits ws://host[:port][/path]. False when the URL is not of that form.
bool parse_ws_url(std::string_view url, endpoint& ep) {
  constexpr std::string_view scheme = "ws://";
  if (!url.starts_with(scheme)) return false;
  url.remove_prefix(scheme.size());
  const std::size_t slash = url.find('/');
  ep.authority = std::string(url.substr(0, slash));
  ep.base_path = slash == std::string_view::npos ? std::string() : std::string(url.substr(slash));
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  const std::string_view auth = ep.authority;
  std::string_view host = auth;
  std::string_view port = "80";
  if (auth.starts_with('[')) {  // [v6]:port
    const std::size_t close = auth.find(']');
    if (close == std::string_view::npos) return false;
    host = auth.substr(1, close - 1);
    if (close + 1 < auth.size()) {
      if (auth[close + 1] != ':') return false;
      port = auth.substr(close + 2);
    }
  } else if (const std::size_t colon = auth.rfind(':'); colon != std::string_view::npos) {
    host = auth.substr(0, colon);
    port = auth.substr(colon + 1);
  }
  ep.host = std::string(host);
  ep.port = std::string(port);
  return !ep.host.empty() && !ep.port.empty();
}

// A blocking connect to the endpoint, then the socket is switched to non-blocking.
unique_fd connect_tcp(const endpoint& ep) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(ep.host.c_str(), ep.port.c_str(), &hints, &found); rc != 0) {
    std::fprintf(stderr, "poll_echo_client: %s: %s\n", ep.authority.c_str(), ::gai_strerror(rc));
    return {};
  }
  unique_fd sock;
  int error = 0;
  for (addrinfo* ai = found; ai != nullptr && !sock; ai = ai->ai_next) {
    unique_fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0));
    if (fd && ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 &&
        poll_example::set_nonblocking(fd.get())) {
      sock = std::move(fd);
    } else {
      error = errno;
    }
  }
  ::freeaddrinfo(found);
  if (!sock) {
    std::fprintf(stderr, "poll_echo_client: connect %s: %s\n", ep.authority.c_str(),
                 std::strerror(error));
    return {};
  }
  poll_example::set_nodelay(sock.get());
  return sock;
}

struct driver {
  endpoint ep;
  bool verbose = false;
  wsx::config cfg = poll_example::echo_config();

  // Runs one WebSocket connection to `target` until its socket is closed; every message is
  // echoed and the last text message received is stored in `last_text`. False when no TCP
  // connection or no opening handshake came about.
  bool run(const std::string& target, std::string* last_text = nullptr) const {
    unique_fd fd = connect_tcp(ep);
    if (!fd) return false;
    wsx::time_point now = wsx::clock::now();
    poll_session session(std::move(fd), wsx::role::client, cfg, now);
    wsx::client_options copts;
    copts.host = ep.authority;
    copts.target = ep.base_path + target;
    if (const std::error_code ec = session.conn().connect(copts, now)) {
      std::fprintf(stderr, "poll_echo_client: connect(%s): %s\n", target.c_str(),
                   ec.message().c_str());
      return false;
    }
    bool opened = false;
    const auto handle = [&](poll_session& s, wsx::event& ev, wsx::time_point at) {
      if (verbose)
        std::fprintf(stderr, "[%s] %s\n", target.c_str(), poll_example::describe(ev).c_str());
      if (std::holds_alternative<wsx::opened>(ev)) {
        opened = true;
      } else if (const auto* m = std::get_if<wsx::message>(&ev)) {
        if (last_text != nullptr && m->kind == wsx::message_kind::text) {
          *last_text = std::string(wsx::as_string(m->payload));
        }
        poll_example::echo(s.conn(), *m, at);
      }
    };
    session.pump(now, handle);  // sends the upgrade request
    while (!session.done()) {
      pollfd pfd{session.fd(), session.poll_events(), 0};
      const int timeout = poll_example::poll_timeout_ms(session.next_deadline(), wsx::clock::now());
      if (::poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
        std::fprintf(stderr, "poll_echo_client: poll: %s\n", std::strerror(errno));
        return false;
      }
      now = wsx::clock::now();
      session.on_poll(pfd.revents, now, handle);
      session.on_timer(now, handle);
    }
    return opened;
  }
};

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* program = "poll_echo_client";
  examples::driver_options args;
  driver d;
  const auto read_url = [&d](std::string_view url) {
    return parse_ws_url(url, d.ep) ? std::string() : std::string("is not a ws://HOST:PORT URL");
  };
  if (const auto status = examples::parse_driver_options(program, argc, argv, args, read_url)) {
    return *status;
  }
  d.verbose = args.verbose;
  d.cfg.deflate.enabled = args.deflate;
  ::signal(SIGPIPE, SIG_IGN);  // writev() on a reset socket must return EPIPE, not kill us
  return examples::run_conformance_cases(
      program, args.agent,
      [&d](const std::string& target, std::string* last_text) { return d.run(target, last_text); });
}
