// poll_echo_server: a WebSocket echo server over poll(2), using only the public wsx core.
//
// Theory of operation: one thread, one poll() over a self-pipe (SIGINT/SIGTERM), the listening
// socket and one poll_session per client. Every upgrade request is accepted; every message is
// sent back with its own opcode. The poll timeout is the earliest deadline any connection has
// armed, and after poll() returns each session with a due deadline gets on_timer(). Sessions
// whose socket is closed are dropped at the end of the iteration. On a signal the server sends
// 1001 to every open connection (best effort, one non-blocking write), closes all sockets and
// exits 0.
//
// usage: poll_echo_server [--host 127.0.0.1] [--port 0] [--verbose]
#include <netdb.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_line.hpp"
#include "poll_common.hpp"

namespace {

using poll_example::poll_session;
using poll_example::unique_fd;

struct options {
  std::string host = "127.0.0.1";
  std::string port = "0";
  bool verbose = false;
};

int signal_pipe_write_end = -1;

extern "C" void on_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(signal_pipe_write_end, &byte, 1);
  errno = saved;
}

// A non-blocking pipe whose read end becomes readable when SIGINT or SIGTERM arrives.
unique_fd install_signal_pipe() {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  signal_pipe_write_end = fds[1];  // kept open for the life of the process
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  return unique_fd(fds[0]);
}

// Binds and listens on host:port; prints "listening on HOST:PORT" with the actual port.
unique_fd open_listener(const options& opt) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(opt.host.c_str(), opt.port.c_str(), &hints, &found); rc != 0) {
    std::fprintf(stderr, "poll_echo_server: %s:%s: %s\n", opt.host.c_str(), opt.port.c_str(),
                 ::gai_strerror(rc));
    return {};
  }
  unique_fd listener;
  for (addrinfo* ai = found; ai != nullptr && !listener; ai = ai->ai_next) {
    unique_fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) continue;
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd.get(), 128) == 0) {
      listener = std::move(fd);
    }
  }
  ::freeaddrinfo(found);
  if (!listener) {
    std::fprintf(stderr, "poll_echo_server: cannot listen on %s:%s: %s\n", opt.host.c_str(),
                 opt.port.c_str(), std::strerror(errno));
    return {};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0 ||
      ::getnameinfo(reinterpret_cast<sockaddr*>(&bound), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    std::fprintf(stderr, "poll_echo_server: cannot read the bound address\n");
    return {};
  }
  const bool v6 = bound.ss_family == AF_INET6;
  std::printf("listening on %s%s%s:%s\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
  std::fflush(stdout);
  return listener;
}

// Takes every pending connection off the listener.
void accept_all(int listener, std::vector<poll_session>& sessions, const wsx::config& cfg,
                wsx::time_point now) {
  for (;;) {
    unique_fd fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        std::fprintf(stderr, "poll_echo_server: accept: %s\n", std::strerror(errno));
      }
      return;
    }
    poll_example::set_nodelay(fd.get());
    sessions.emplace_back(std::move(fd), wsx::role::server, cfg, now);
  }
}

constexpr const char* usage =
    "usage: poll_echo_server [--host HOST] [--port PORT] [--deflate] [--verbose]\n"
    "  --host HOST   address to listen on (default 127.0.0.1)\n"
    "  --port PORT   0-65535; 0 picks a free one, printed as \"listening on HOST:PORT\"\n"
    "  --deflate     accept permessage-deflate (RFC 7692)\n"
    "  --verbose     every event of every connection on stderr";

}  // namespace

int main(int argc, char** argv) {
  options opt;
  examples::command_line cli("poll_echo_server", usage);
  cli.add_option("--host", examples::read_text(opt.host));
  std::uint16_t port = 0;
  cli.add_option("--port", examples::read_port(port));
  cli.add_switch("--verbose", opt.verbose);
  bool deflate = false;
  cli.add_switch("--deflate", deflate);
  if (const std::optional<int> status = cli.parse(argc, argv)) return *status;
  opt.port = std::to_string(port);
  ::signal(SIGPIPE, SIG_IGN);  // writev() on a reset socket must return EPIPE, not kill us
  const unique_fd signals = install_signal_pipe();
  const unique_fd listener = open_listener(opt);
  if (!signals || !listener) return 1;

  wsx::config cfg = poll_example::echo_config();
  cfg.deflate.enabled = deflate;
  std::vector<poll_session> sessions;
  std::vector<pollfd> fds;

  const auto handle = [&](poll_session& s, wsx::event& ev, wsx::time_point now) {
    if (opt.verbose) {
      std::fprintf(stderr, "[fd %d] %s\n", s.fd(), poll_example::describe(ev).c_str());
    }
    if (std::holds_alternative<wsx::upgrade_request>(ev)) {
      if (const std::error_code ec = s.conn().accept({}, now)) {
        std::fprintf(stderr, "[fd %d] accept failed: %s\n", s.fd(), ec.message().c_str());
      }
    } else if (const auto* m = std::get_if<wsx::message>(&ev)) {
      poll_example::echo(s.conn(), *m, now);
    }
  };

  for (;;) {
    // fds[0] = signal pipe, fds[1] = listener, fds[2 + i] = sessions[i].
    fds.clear();
    fds.push_back({signals.get(), POLLIN, 0});
    fds.push_back({listener.get(), POLLIN, 0});
    std::optional<wsx::time_point> deadline;
    for (const poll_session& s : sessions) {
      fds.push_back({s.fd(), s.poll_events(), 0});
      deadline = poll_example::earliest(deadline, s.next_deadline());
    }
    const int timeout = poll_example::poll_timeout_ms(deadline, wsx::clock::now());
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      std::fprintf(stderr, "poll_echo_server: poll: %s\n", std::strerror(errno));
      return 1;
    }
    const wsx::time_point now = wsx::clock::now();
    if (fds[0].revents != 0) break;

    for (std::size_t i = 0; i < sessions.size(); ++i) {
      sessions[i].on_poll(fds[2 + i].revents, now, handle);
      sessions[i].on_timer(now, handle);
    }
    std::erase_if(sessions, [](const poll_session& s) { return s.done(); });
    if (fds[1].revents != 0) accept_all(listener.get(), sessions, cfg, now);
  }

  // Shutting down: a polite 1001 where the connection is open, then every socket closes as the
  // sessions are destroyed.
  const wsx::time_point now = wsx::clock::now();
  const auto ignore = [](poll_session&, wsx::event&, wsx::time_point) {};
  for (poll_session& s : sessions) {
    if (s.conn().state() == wsx::connection_state::open) {
      s.conn().close(wsx::close_code::going_away, "server shutting down", now);
      s.pump(now, ignore);
    }
  }
  sessions.clear();
  return 0;
}
