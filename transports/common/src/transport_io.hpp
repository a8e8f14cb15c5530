// The transport seam: what a transport (Asio, libevent) implements for each connection so that
// the pump (pump.hpp) can drive a wsx::connection over it. Internal to wsx: not installed.
//
// The seam has three parts, in three places:
// - The application's side, installed: wsx/common/handlers.hpp (session handlers, the upgrade
//   hook, its context and decision, pending_upgrade, the plain-HTTP handler) and
//   wsx/common/session.hpp (the session handle). A transport's public headers include these and
//   nothing below.
// - This header: the contract a transport implements (transport_io) and the two small types it
//   exchanges with the pump (write_result, maybe_time).
// - pump.hpp: the pump a transport owns per connection, and the pump_context every connection
//   of one server (or client) shares.
// A transport links meson's `wsx_common_transport_dep`, which adds transports/common/src to its
// include path: `#include "pump.hpp"` brings all of this. Nothing here is visible to applications,
// so the pump's state can change without touching an installed header; a transport outside this
// repository is not supported.
//
// The contract in one paragraph: the transport owns the socket, one timer and a wake-up. It tells
// the pump what happened (pump::on_input, on_eof, on_timer, on_write_complete, on_wake…) on the
// connection's loop, and the pump answers through the calls below: write these ranges, arm the
// timer, resume reading, close. The pump calls them on the loop only (set_timer() also from
// pump::start()), and nothing but wake() once it has called close_now() or close_gracefully().
#pragma once

#include <cstddef>
#include <optional>
#include <system_error>

#include "wsx/connection.hpp"
#include "wsx/types.hpp"

namespace wsx {

// An optional time_point in the 8 bytes of one (std::optional takes 16): time_point::max(),
// which no deadline is ever set to, stands for "none". For the per-connection objects, which
// every idle connection carries.
class maybe_time {
 public:
  maybe_time() = default;
  maybe_time(time_point t) noexcept : at_(t) {}                             // NOLINT: implicit
  maybe_time(std::optional<time_point> t) noexcept : at_(t ? *t : none) {}  // NOLINT: implicit
  explicit operator bool() const noexcept { return at_ != none; }
  time_point operator*() const noexcept { return at_; }
  void reset() noexcept { at_ = none; }
  friend bool operator==(maybe_time, maybe_time) = default;

 private:
  static constexpr time_point none = time_point::max();
  time_point at_ = none;
};

// The outcome of transport_io::write().
struct write_result {
  std::size_t written = 0;  // bytes taken from the front of the ranges and already sent
  bool in_flight = false;   // an operation is outstanding: expect pump::on_write_complete()
  std::error_code error;    // the socket failed: the pump ends the connection
};

// Implemented by each transport for each connection.
class transport_io {
 public:
  // Write from the front of `out` (ranges valid until the next call on the pump). Either send
  // what the socket takes now (written, possibly partial), or start one asynchronous operation
  // (in_flight) whose end the transport reports with pump::on_write_complete(n, ec, now); n may
  // be 0 for "the socket is writable again". The pump never has two writes outstanding.
  virtual write_result write(const output_view& out) = 0;
  // The read loop stopped because pump::should_read() said so for backpressure; start it again.
  virtual void resume_reading() = 0;
  // Arm the connection's one timer for `at` (replacing any earlier arming), or disarm it.
  // When it fires, call pump::on_timer(now). The pump calls this only when the time changed.
  virtual void set_timer(std::optional<time_point> at) = 0;
  // Everything is written and the session has ended: close the socket politely (TCP: shut down
  // the sending side, drain input until the peer's FIN or a short linger; TLS: close_notify).
  virtual void close_gracefully() = 0;
  // Close the socket now (errors, aborts). Outstanding operations may still complete, but must
  // not call into the pump any more.
  virtual void close_now() = 0;
  // True on the thread currently running this connection's loop (inside its strand).
  virtual bool on_loop_thread() const noexcept = 0;
  // From any thread: make the loop call pump::on_wake(now) soon. The pump calls it at most once
  // until on_wake runs.
  virtual void wake() = 0;
  // The connection has gone quiet (the pump just freed the core's idle buffers): give back any
  // buffer the transport keeps only for busy connections. Optional.
  virtual void release_idle_buffers() {}

 protected:
  ~transport_io() = default;
};

}  // namespace wsx
