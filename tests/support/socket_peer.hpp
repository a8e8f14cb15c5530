// Helpers for the transport tests, whichever transport they run: bounded waits, fd counting,
// raw loopback sockets, and `peer` — a WebSocket client the test drives by hand on its own thread
// (a non-blocking socket and a wsx::connection pumped by poll(2), from examples/poll_common.hpp),
// so a test can make it misbehave: stop reading, go silent, reset the connection, send garbage.
//
// Waits are bounded (a generous limit, never a timing assertion): a test fails instead of
// hanging when the awaited thing does not happen.
#pragma once

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "poll_common.hpp"
#include "wsx/connection.hpp"

namespace wsx::test {

using namespace std::chrono_literals;

// Polls `done` every millisecond until it is true or `limit` has passed. Returns done().
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return done();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Open file descriptors of this process.
inline int open_fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    --n;  // the directory stream's own descriptor
  }
  return n;
}

// Raises the soft RLIMIT_NOFILE to at least `wanted` (up to the hard limit). Returns the limit.
inline rlim_t raise_fd_limit(rlim_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < wanted) {
    rl.rlim_cur = std::min(wanted, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

// A blocking TCP connection to 127.0.0.1:port; `rcvbuf` > 0 shrinks the receive buffer first
// (a small window makes "stops reading" bite quickly). Invalid fd on failure.
inline poll_example::unique_fd connect_loopback(std::uint16_t port, int rcvbuf = 0) {
  poll_example::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  if (rcvbuf > 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

// Sends all of `data` on a blocking socket. False on error.
inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads a blocking socket until the peer closes it (or `limit`): what the server said.
inline std::string read_until_closed(int fd, std::chrono::milliseconds limit = 10s) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Closes `fd` with a TCP reset instead of a FIN (SO_LINGER 0): a peer vanishing abruptly.
inline void reset_connection(poll_example::unique_fd& fd) {
  const linger lg{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  fd.reset();
}

// A WebSocket client driven by the test's thread. Nothing happens between pump calls: a peer
// that is not pumped neither reads nor answers pings.
class peer {
 public:
  peer(std::uint16_t port, std::string target = "/", int rcvbuf = 0) {
    poll_example::unique_fd fd = connect_loopback(port, rcvbuf);
    if (!fd || !poll_example::set_nonblocking(fd.get())) return;
    poll_example::set_nodelay(fd.get());
    wsx::config cfg;
    cfg.delivery = wsx::delivery::whole_messages;
    cfg.ping_interval = wsx::duration::zero();
    cfg.max_message_size = 64 * 1024 * 1024;
    cfg.max_frame_payload = 64 * 1024 * 1024;
    const wsx::time_point now = wsx::clock::now();
    session_.emplace(std::move(fd), wsx::role::client, cfg, now);
    wsx::client_options opts;
    opts.host = "127.0.0.1:" + std::to_string(port);
    opts.target = std::move(target);
    session_->conn().connect(opts, now);
    pump_once(0);
  }

  bool connected() const noexcept { return session_.has_value() && !session_->done(); }
  int fd() const noexcept { return session_ ? session_->fd() : -1; }
  wsx::connection& conn() { return session_->conn(); }

  // One poll() round of at most `timeout_ms`, then deadlines.
  void pump_once(int timeout_ms) {
    if (!connected()) return;
    pollfd p{session_->fd(), session_->poll_events(), 0};
    const int wait = std::min(
        timeout_ms, poll_example::poll_timeout_ms(session_->next_deadline(), wsx::clock::now()));
    ::poll(&p, 1, wait < 0 ? timeout_ms : wait);
    const wsx::time_point now = wsx::clock::now();
    const auto handle = [this](poll_example::poll_session&, wsx::event& ev, wsx::time_point) {
      on_event(ev);
    };
    session_->on_poll(p.revents, now, handle);
    session_->on_timer(now, handle);
    session_->pump(now, handle);
  }

  // Pumps until `done` or `limit`. Returns done().
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end || !connected()) return done();
      pump_once(5);
    }
    return true;
  }

  // Queue a message / close and write it out.
  void send_text(std::string_view text) {
    conn().send_text(text, wsx::clock::now());
    pump_once(0);
  }
  void close(wsx::close_code code) {
    conn().close(code, "", wsx::clock::now());
    pump_once(0);
  }
  // Bytes straight onto the socket, bypassing the core (protocol violations).
  bool write_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        pollfd p{fd(), POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Vanish with a TCP reset.
  void reset() {
    if (!session_) return;
    const linger lg{1, 0};
    ::setsockopt(session_->fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    session_.reset();
  }

  // What happened so far.
  bool opened = false;
  std::optional<wsx::rejected> rejected_with;
  std::optional<wsx::closed> closed_with;
  std::optional<wsx::close_code> close_frame;  // the code of the peer's close frame
  std::vector<std::string> messages;

 private:
  void on_event(wsx::event& ev) {
    if (std::holds_alternative<wsx::opened>(ev)) {
      opened = true;
    } else if (auto* r = std::get_if<wsx::rejected>(&ev)) {
      rejected_with = std::move(*r);
    } else if (auto* m = std::get_if<wsx::message>(&ev)) {
      messages.emplace_back(wsx::as_string(m->payload));
    } else if (auto* cr = std::get_if<wsx::close_received>(&ev)) {
      close_frame = cr->code;
    } else if (auto* c = std::get_if<wsx::closed>(&ev)) {
      closed_with = std::move(*c);
    }
  }

  std::optional<poll_example::poll_session> session_;
};

// One poll() of at most `timeout_ms` over every connected peer, then pumps the readable ones.
// False when no peer is connected.
inline bool pump_round(std::vector<std::unique_ptr<peer>>& peers, int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<peer*> order;
  for (auto& p : peers) {
    if (!p || !p->connected()) continue;
    fds.push_back({p->fd(), POLLIN, 0});
    order.push_back(p.get());
  }
  if (fds.empty()) return false;
  ::poll(fds.data(), fds.size(), timeout_ms);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents != 0) order[i]->pump_once(0);
  }
  return true;
}

// Pumps many peers, one poll() per round, until `done` or `limit`. Returns done().
inline bool pump_all(std::vector<std::unique_ptr<peer>>& peers, const std::function<bool()>& done,
                     std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end || !pump_round(peers, 5)) return done();
  }
  return true;
}

}  // namespace wsx::test
