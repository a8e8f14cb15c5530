// Server counters: plain atomics any thread may bump (relaxed increments; nothing orders them
// against each other), a snapshot of plain values, and two renderings of it: the Prometheus text
// exposition format for a /metrics endpoint, and a readable report for /stats or logs.
//
// A transport owns one `stats` per server and calls the count_* commands from its accept,
// upgrade, read, write and close paths. The counters are public for direct reads; prefer the
// commands for writes, which pick the right bucket.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include "wsx/errors.hpp"
#include "wsx/types.hpp"

namespace wsx {

namespace stats_buckets {
// handshakes_rejected[v] counts core rejections with errc value v; [0] counts codes outside the
// enum as known when this was built.
inline constexpr std::size_t errc_slots = static_cast<std::size_t>(errc::eof_without_close) + 1;
// app_rejected[c] counts application rejections with status c·100..c·100+99 for c in 1..5;
// [0] counts statuses outside 100-599.
inline constexpr std::size_t status_classes = 6;
// closes[i] counts close code 1000+i for i in 0..15; [16] counts every other code.
inline constexpr std::size_t close_slots = 17;
}  // namespace stats_buckets

// Plain values copied out of `stats`. Counters are read one by one, so the snapshot is not an
// atomic cut: a message counted while it was taken may show in one counter and not another.
struct stats_snapshot {
  std::uint64_t open_connections = 0;
  std::uint64_t users = 0;  // not counted by `stats`: fill from connection_table::user_count()
  std::uint64_t handshakes_accepted = 0;
  std::array<std::uint64_t, stats_buckets::errc_slots> handshakes_rejected{};
  std::array<std::uint64_t, stats_buckets::status_classes> app_rejected{};
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::array<std::uint64_t, stats_buckets::close_slots> closes{};
  std::uint64_t heartbeat_timeouts = 0;
  std::uint64_t write_timeouts = 0;
  std::uint64_t messages_dropped = 0;

  // Sum of every rejection bucket, core and application.
  std::uint64_t handshakes_rejected_total() const noexcept;
  // Sum of every close bucket.
  std::uint64_t closes_total() const noexcept;
};

struct stats {
  using counter = std::atomic<std::uint64_t>;

  counter open_connections{0};  // gauge: count_open() adds one, count_close() takes it back
  counter handshakes_accepted{0};
  std::array<counter, stats_buckets::errc_slots> handshakes_rejected{};
  std::array<counter, stats_buckets::status_classes> app_rejected{};
  counter messages_in{0};
  counter messages_out{0};
  counter bytes_in{0};   // wire bytes read from sockets (frames and handshakes)
  counter bytes_out{0};  // wire bytes written to sockets
  std::array<counter, stats_buckets::close_slots> closes{};
  counter heartbeat_timeouts{0};
  counter write_timeouts{0};
  // Messages the backpressure policy refused (send returned errc::output_limit), whichever
  // action it took (drop the message, or close the slow consumer with 1008).
  counter messages_dropped{0};

  // A session opened (upgrade done). Pair every call with exactly one count_close().
  void count_open() noexcept;
  // A session that count_open() counted has ended with close `code` (the `closed` event's code)
  // and error `ec` (its ec; clear for a clean close). Takes the gauge down one, counts the code,
  // and counts errc::heartbeat_timeout / errc::write_timeout in their own counters.
  void count_close(close_code code, std::error_code ec = {}) noexcept;
  void count_handshake_accepted() noexcept;
  // The core refused an upgrade with `reason` (the `rejected` event's errc).
  void count_handshake_rejected(errc reason) noexcept;
  // The application's upgrade hook refused an upgrade with `http_status`.
  void count_app_rejected(int http_status) noexcept;
  // `n` whole messages received / queued for sending (n > 1 for a broadcast).
  void count_messages_in(std::uint64_t n = 1) noexcept;
  void count_messages_out(std::uint64_t n = 1) noexcept;
  // Socket reads and writes that moved `n` bytes.
  void count_bytes_in(std::uint64_t n) noexcept;
  void count_bytes_out(std::uint64_t n) noexcept;
  // The backpressure policy refused a message.
  void count_message_dropped() noexcept;

  // Copies every counter; `users` is left 0 for the caller to fill.
  stats_snapshot snapshot() const noexcept;
};

// A multi-line report: one "name value" line per counter, and under handshakes_rejected and
// closes one indented "value  meaning" line per non-zero bucket, e.g.
//   open_connections 12
//   handshakes_rejected 3
//     2  426 Upgrade: websocket header missing (a proxy may have dropped it)
//     1  application 4xx
//   closes 4
//     4  1000 normal
// Ends with a newline.
std::string to_text(const stats_snapshot& s);

// The Content-Type of to_prometheus()'s output (Prometheus text exposition format 0.0.4).
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// The snapshot in the Prometheus text exposition format, for a scrape of GET /metrics: one
// family per counter, each with its "# HELP" and "# TYPE" lines, names prefixed "wsx_",
// counters ending in "_total", e.g.
//   # HELP wsx_open_connections WebSocket sessions open now.
//   # TYPE wsx_open_connections gauge
//   wsx_open_connections 12
//   ...
//   wsx_handshakes_rejected_total{source="core",reason="missing_upgrade",status="426"} 2
//   wsx_handshakes_rejected_total{source="application",reason="upgrade_rejected",status="4xx"} 1
//   ...
//   wsx_sessions_closed_total{code="1000"} 4
// The families: wsx_open_connections and wsx_users (gauges); wsx_handshakes_accepted_total;
// wsx_handshakes_rejected_total by source (core: reason is the errc name, status the HTTP status
// answered, "none" if none; application: status is the class 1xx..5xx, "other" outside
// 100-599); wsx_messages_received_total, wsx_messages_sent_total, wsx_received_bytes_total,
// wsx_sent_bytes_total; wsx_sessions_closed_total by code ("1000".."1015", "other");
// wsx_heartbeat_timeouts_total, wsx_write_timeouts_total, wsx_messages_dropped_total. The core
// reasons that answer an HTTP status, the application classes 1xx-5xx and the codes 1000-1015
// are always present (0 until counted), so rates over them are defined from the first scrape;
// the catch-all buckets appear once non-zero. Ends with a newline.
std::string to_prometheus(const stats_snapshot& s);

// The errc's enumerator name ("missing_upgrade"), as used in to_prometheus()'s reason label;
// "other" for a value outside the enum.
const char* errc_name(errc e) noexcept;

}  // namespace wsx
