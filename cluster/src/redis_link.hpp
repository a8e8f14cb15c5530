// One connection to Redis, sans-IO: the link decides when to connect, what to write, when a
// reply is late and when to retry; the transport adapter only moves bytes and keeps one timer.
//
// States: idle → connecting → open → (error) backoff → connecting → … ; stop() → stopped from
// any state. The socket the link wants exists exactly in `connecting` and `open`; each
// connection attempt has a number (attempt()), so an adapter that still holds the socket of an
// older attempt closes it and opens a new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "resp.hpp"

namespace wsx::cluster::detail {

using time_point = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

struct link_config {
  milliseconds probe_interval{2000};  // silence → PING after half of it; no answer → dead
  milliseconds connect_timeout{2000};
  milliseconds backoff_initial{100};
  milliseconds backoff_max{5000};
  std::size_t max_reply_bytes = 1 << 20;
  std::size_t max_backlog_bytes = 8 << 20;
  bool subscriber = false;  // replies are pub/sub pushes, not answers to commands in order
};

enum class link_state : std::uint8_t { idle, connecting, open, backoff, stopped };

struct link_event {
  enum class kind : std::uint8_t { connected, disconnected, reply };
  kind type = kind::reply;
  std::error_code ec;     // disconnected: why
  std::uint64_t tag = 0;  // reply: the tag given to send() (subscriber links: 0)
  reply r;
};

class redis_link {
 public:
  redis_link(link_config cfg, std::uint64_t seed);

  // idle → connecting. Later calls do nothing.
  void start(time_point now);
  // Any state → stopped: no socket wanted, nothing queued, no deadline.
  void stop();
  link_state state() const noexcept { return state_; }
  bool is_open() const noexcept { return state_ == link_state::open; }

  // What the adapter keeps: a socket connected (or connecting) for attempt() exactly while
  // wants_socket(); otherwise none.
  bool wants_socket() const noexcept {
    return state_ == link_state::connecting || state_ == link_state::open;
  }
  std::uint64_t attempt() const noexcept { return attempt_; }

  // The adapter's socket for attempt() connected / could not connect.
  void on_connected(time_point now);
  void on_connect_failed(time_point now);
  // Bytes read from the socket. A protocol error or a reply past the limit drops the
  // connection (disconnected event, backoff) and is returned.
  std::error_code receive(std::span<const char> in, time_point now);
  // The peer closed or reset the connection.
  void on_eof(time_point now);

  // Bytes to write, stable until consume_output() or a state change; the adapter writes them
  // and reports how many left.
  std::string_view pending_output() const noexcept;
  void consume_output(std::size_t n) noexcept;

  // Queues one command (or a pipeline of them) expecting `replies` replies, reported with
  // `tag`. errc::redis_unavailable unless open; errc::backlog_full past max_backlog_bytes.
  std::error_code send(std::string_view bytes, std::uint64_t tag, unsigned replies);

  std::optional<time_point> next_deadline() const noexcept;
  void on_timer(time_point now);

  std::optional<link_event> next_event();

  // Counters since construction.
  std::uint64_t probe_timeouts() const noexcept { return probe_timeouts_; }
  std::uint64_t replies_too_large() const noexcept { return too_large_; }
  std::uint64_t disconnects() const noexcept { return disconnects_; }

 private:
  struct expected {
    std::uint64_t tag;
    unsigned replies;
  };
  static constexpr std::uint64_t ping_tag = ~std::uint64_t{0};

  void fail(std::error_code ec, time_point now);
  void on_reply(reply& r);
  void send_ping(time_point now);
  milliseconds half_probe() const noexcept { return cfg_.probe_interval / 2; }

  link_config cfg_;
  link_state state_ = link_state::idle;
  std::uint64_t attempt_ = 0;
  std::unique_ptr<resp_reader> reader_;
  std::string out_;
  std::size_t out_pos_ = 0;
  std::deque<expected> expected_;
  std::deque<link_event> events_;
  time_point state_since_{};
  time_point last_rx_{};
  time_point retry_at_{};
  bool ping_outstanding_ = false;
  time_point ping_sent_{};
  unsigned failures_ = 0;
  std::minstd_rand rng_;
  std::error_code reply_error_;  // set by on_reply for an unexpected reply
  std::uint64_t probe_timeouts_ = 0;
  std::uint64_t too_large_ = 0;
  std::uint64_t disconnects_ = 0;
};

}  // namespace wsx::cluster::detail
