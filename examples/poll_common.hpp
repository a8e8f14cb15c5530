// Shared by the poll(2) examples: a socket-owning session that pumps one wsx::connection.
//
// Theory of operation: poll_session owns a non-blocking TCP socket and the connection that speaks
// WebSocket over it. The owner asks it which poll events it wants (poll_events) and when it next
// needs a wake-up (next_deadline), then hands it what poll() reported (on_poll) and the time
// (on_timer). Every entry point ends in the same pump: drain next_event() into the caller's
// handler, writev() pending_output() until the socket would block, and close the socket once the
// core says the transport may close and nothing is left to write. Closing is "lingering": shut down
// our sending side, read and discard until the peer's FIN (or linger_time), then close(), so a
// close frame is never lost to a TCP reset caused by unread input.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include "wsx/connection.hpp"

#include "common/conformance_driver.hpp"

namespace poll_example {

// Owns one file descriptor; closes it on destruction.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

inline bool set_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Small frames (pongs, close echoes, short echoes) must not wait for Nagle's algorithm.
inline void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// The configuration both examples use: whole messages (simplest for echo) and the conformance
// suite's limits (common/conformance_driver.hpp).
inline wsx::config echo_config() {
  wsx::config cfg;
  cfg.delivery = wsx::delivery::whole_messages;
  examples::apply_conformance_limits(cfg);
  return cfg;
}

// One read buffer for every session of the (single-threaded) process: the core copies what it
// keeps, so the buffer is free again as soon as receive() returns.
inline std::span<std::byte> shared_read_buffer() noexcept {
  static std::array<std::byte, 64 * 1024> buffer;
  return buffer;
}

// The earlier of two optional deadlines.
inline std::optional<wsx::time_point> earliest(std::optional<wsx::time_point> a,
                                               std::optional<wsx::time_point> b) noexcept {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// poll() timeout for `deadline`: milliseconds rounded up (never wake early and spin), -1 for none.
inline int poll_timeout_ms(std::optional<wsx::time_point> deadline, wsx::time_point now) noexcept {
  if (!deadline) return -1;
  if (*deadline <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, 60 * 60 * 1000));
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

// One line describing an event, for --verbose logs.
inline std::string describe(const wsx::event& ev) {
  const auto code = [](wsx::close_code c) { return std::to_string(static_cast<unsigned>(c)); };
  const auto kind = [](wsx::message_kind k) {
    return std::string(k == wsx::message_kind::text ? "text" : "binary");
  };
  return std::visit(
      overloaded{
          [](const wsx::upgrade_request& e) {
            return "upgrade_request " + e.method + " " + e.target;
          },
          [](const wsx::opened& e) { return "opened subprotocol='" + e.subprotocol + "'"; },
          [](const wsx::rejected& e) {
            return "rejected status=" + std::to_string(e.status) + " reason='" + e.reason + "' (" +
                   e.ec.message() + ")";
          },
          [&](const wsx::message_chunk& e) {
            return "message_chunk " + kind(e.kind) + (e.first ? " first" : "") +
                   (e.last ? " last" : "") + " " + std::to_string(e.payload.size()) + " bytes";
          },
          [&](const wsx::message& e) {
            return "message " + kind(e.kind) + " " + std::to_string(e.payload.size()) + " bytes";
          },
          [](const wsx::ping_received& e) {
            return "ping_received " + std::to_string(e.payload.size()) + " bytes";
          },
          [](const wsx::pong_received& e) {
            return "pong_received " + std::to_string(e.payload.size()) + " bytes";
          },
          [&](const wsx::close_received& e) {
            return "close_received " + code(e.code) + " '" + std::string(e.reason) + "'";
          },
          [&](const wsx::closed& e) {
            return "closed " + code(e.code) + " '" + e.reason + "'" + (e.clean ? " clean" : "") +
                   (e.initiated_locally ? " local" : " remote") +
                   (e.ec ? " (" + e.ec.message() + ")" : std::string());
          },
      },
      ev);
}

// Echo a whole message with its own opcode. A send refused for backpressure (the output queue is
// over config::max_buffered_output) ends the connection with 1008 instead of dropping the message.
inline void echo(wsx::connection& conn, const wsx::message& m, wsx::time_point now) {
  const auto op = m.kind == wsx::message_kind::text ? wsx::opcode::text : wsx::opcode::binary;
  const std::error_code ec = conn.send(op, m.payload, true, now);
  if (ec == wsx::errc::output_limit) {
    conn.close(wsx::close_code::policy_violation, "echo backlog over the output limit", now);
  } else if (ec && ec != wsx::errc::invalid_state) {
    std::fprintf(stderr, "send failed: %s\n", ec.message().c_str());
  }
}

// A TCP socket and the WebSocket connection on it. See the theory of operation at the top.
class poll_session {
 public:
  // How long a closing socket waits for the peer's FIN after our shutdown(SHUT_WR).
  static constexpr std::chrono::seconds linger_time{2};

  poll_session(unique_fd fd, wsx::role r, const wsx::config& cfg, wsx::time_point now)
      : fd_(std::move(fd)),
        conn_(r, cfg, now),
        read_pause_bytes_(std::max<std::size_t>(cfg.max_buffered_output / 4, 1)) {}

  wsx::connection& conn() noexcept { return conn_; }
  int fd() const noexcept { return fd_.get(); }
  // True once the socket is closed: the owner may destroy the session.
  bool done() const noexcept { return !fd_; }

  // Events for this session's pollfd.
  short poll_events() const noexcept {
    if (!fd_) return 0;
    if (lingering_) return POLLIN;
    int events = 0;
    // Backpressure: while the peer is not taking our output, stop taking its input.
    if (keep_reading() && conn_.buffered_amount() < read_pause_bytes_) events |= POLLIN;
    if (conn_.wants_write()) events |= POLLOUT;  // only left over when the last write would block
    return static_cast<short>(events);
  }

  // When on_timer() must run next; nullopt when no deadline is armed.
  std::optional<wsx::time_point> next_deadline() const noexcept {
    if (!fd_) return std::nullopt;
    if (lingering_) return linger_deadline_;
    return conn_.next_deadline();
  }

  // Handle what poll() reported for this session's fd. `handler(session, event, now)` sees
  // every event; spans in the event are valid only until its next non-const call on conn().
  template <class Handler>
  void on_poll(short revents, wsx::time_point now, Handler&& handler) {
    if (!fd_ || revents == 0) return;
    if (lingering_) {
      drain_lingering();
      return;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_input(now, handler);
    pump(now, handler);
  }

  // Fire due deadlines. Harmless when nothing is due.
  template <class Handler>
  void on_timer(wsx::time_point now, Handler&& handler) {
    const auto due = next_deadline();
    if (!due || *due > now) return;
    if (lingering_) {
      fd_.reset();  // the peer never sent its FIN: give up waiting
      return;
    }
    conn_.on_timer(now);
    pump(now, handler);
  }

  // Drain events, write what is pending, close the socket when the core says so. Call after any
  // direct call on conn() (connect, send, close) made outside an event handler.
  template <class Handler>
  void pump(wsx::time_point now, Handler&& handler) {
    if (!fd_ || lingering_) return;
    drain_events(now, handler);
    if (!flush(now)) {
      conn_.receive_eof(now);  // the socket failed: let the core end the connection
      drain_events(now, handler);
      fd_.reset();
      return;
    }
    if (conn_.should_close_transport() && !conn_.wants_write()) begin_close(now);
  }

 private:
  // Keep reading until EOF, and (even once the core is closed) until the core allows the transport
  // to close: a client learns that the server dropped TCP only by reading the FIN.
  bool keep_reading() const noexcept {
    return !read_eof_ && (conn_.wants_read() || !conn_.should_close_transport());
  }

  template <class Handler>
  void drain_events(wsx::time_point now, Handler& handler) {
    while (auto ev = conn_.next_event()) handler(*this, *ev, now);
  }

  template <class Handler>
  void read_input(wsx::time_point now, Handler& handler) {
    const std::span<std::byte> buffer = shared_read_buffer();
    // A bounded number of reads per wake-up keeps one fast peer from starving the others.
    for (int round = 0; round < 16 && keep_reading(); ++round) {
      const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n > 0) {
        conn_.receive(buffer.first(static_cast<std::size_t>(n)), now);
        drain_events(now, handler);  // events borrow from the core: handle before the next call
        if (conn_.buffered_amount() >= read_pause_bytes_) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      read_eof_ = true;  // FIN (n == 0) or a socket error such as ECONNRESET
      conn_.receive_eof(now);
      drain_events(now, handler);
      return;
    }
  }

  // writev() pending output until it is gone or the socket would block. False on a write error.
  bool flush(wsx::time_point now) {
    while (conn_.wants_write()) {
      const wsx::output_view out = conn_.pending_output();
      std::array<iovec, 64> iov{};
      const std::size_t count = std::min(out.size(), iov.size());
      for (std::size_t i = 0; i < count; ++i) {
        // writev only reads the ranges; iovec just has no const member.
        iov[i].iov_base = const_cast<std::byte*>(out[i].data());
        iov[i].iov_len = out[i].size();
      }
      const ssize_t n = ::writev(fd_.get(), iov.data(), static_cast<int>(count));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;  // would block: wait for POLLOUT
      }
      conn_.consume_output(static_cast<std::size_t>(n), now);
    }
    return true;
  }

  void begin_close(wsx::time_point now) {
    if (read_eof_ || ::shutdown(fd_.get(), SHUT_WR) != 0) {
      fd_.reset();
      return;
    }
    lingering_ = true;
    linger_deadline_ = now + linger_time;
  }

  void drain_lingering() {
    const std::span<std::byte> buffer = shared_read_buffer();
    for (int round = 0; round < 16; ++round) {
      const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n > 0) continue;  // late input after the close: discard
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fd_.reset();  // FIN or error: done
      return;
    }
  }

  unique_fd fd_;
  wsx::connection conn_;
  std::size_t read_pause_bytes_;
  bool read_eof_ = false;
  bool lingering_ = false;
  wsx::time_point linger_deadline_{};
};

}  // namespace poll_example
