// deflate_load's connections and their event loop: one thread, epoll, every connection keeping up
// to `depth` messages in flight, each echo checked by its echo_stream.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "frames.hpp"
#include "handshake.hpp"
#include "metrics.hpp"

namespace deflate_load {

struct target {
  sockaddr_in addr{};
  std::string host_port;  // for the Host header
  std::string path = "/";
};

class driver {
 public:
  // `w` holds the messages; its agreement is filled by the first handshake and its frames must be
  // built (build_frames) before send() is called.
  driver(const target& t, const offer& o, workload& w, std::size_t depth, std::size_t window);
  ~driver();
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  // Opens `n` more connections, at most `window` in their handshake at a time, and runs the loop
  // until each is open or dead or `timeout_ns` has passed. Returns the first failure (a refused
  // connection, a bad handshake, an agreement that differs from the first one), else "".
  std::string open(std::size_t n, std::uint64_t timeout_ns);

  // Every open connection sends up to `quota` messages (no limit by default), keeping `depth`
  // in flight, from the next loop turn on.
  void send(std::uint64_t quota = std::numeric_limits<std::uint64_t>::max());
  // No more refills: what is in flight still comes back.
  void stop_sending() { sending_ = false; }

  // Runs the loop until `deadline_ns`, or, with `until_echoes`, until that many echoes arrived
  // since the last reset_window().
  void run(std::uint64_t deadline_ns,
           std::uint64_t until_echoes = std::numeric_limits<std::uint64_t>::max());

  // Starts a measurement window: echo counts and latencies from now on.
  void reset_window();
  std::uint64_t window_echoes() const { return echoes_; }
  const histogram& latency() const { return hist_; }
  // Connections with no echo in the window.
  std::size_t stalled() const;
  // Open connections that have not had a single echo yet.
  std::size_t unwarmed() const;
  // Echoes since the connections opened, and messages sent that have not come back yet.
  std::uint64_t total_echoes() const;
  std::uint64_t in_flight() const;

  std::size_t open_count() const { return open_; }
  std::size_t dead_count() const { return dead_; }
  const std::string& first_error() const { return first_error_; }
  std::uint64_t compressed_echoes() const;
  std::uint64_t received_wire_bytes() const;

  // Resets every connection (SO_LINGER 0: no TIME_WAIT left behind).
  void close_all();

 private:
  struct conn;
  void start_connect(conn& c);
  void on_event(conn& c, std::uint32_t events);
  void on_handshake_bytes(conn& c);
  void on_frames(conn& c);
  void refill(conn& c, std::uint64_t now);
  void flush(conn& c);
  void fail(conn& c, const std::string& why);

  target t_;
  offer offer_;
  workload& w_;
  std::size_t depth_;
  std::size_t window_;
  int epfd_ = -1;
  std::vector<std::unique_ptr<conn>> conns_;
  std::size_t next_connect_ = 0, connecting_ = 0, open_ = 0, dead_ = 0;
  bool have_agreement_ = false;
  bool sending_ = false;
  std::uint64_t echoes_ = 0;
  histogram hist_;
  std::string first_error_;
  std::vector<unsigned char> rbuf_;
};

}  // namespace deflate_load
