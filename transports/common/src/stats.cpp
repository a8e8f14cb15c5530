// Server counters. Every bump is one relaxed fetch_add (or fetch_sub for the gauge): the
// counters are independent statistics, nothing reads one to decide about another, so no
// ordering is needed and bumping costs one uncontended-or-not atomic add on the hot path.
// Indexed counters clamp out-of-range inputs into a catch-all bucket rather than trusting the
// caller (an errc added to the enum later, a close code 3000-4999, a status of 0). The report
// writes each bucket with its meaning so a reader needs no table to decode it; the Prometheus
// rendering writes one family per counter, buckets as labels with stable identifiers (errc
// names, close codes, status classes), so dashboards survive reworded messages.
#include "wsx/common/stats.hpp"

#include <iterator>
#include <numeric>

namespace wsx {
namespace {

constexpr std::memory_order relaxed = std::memory_order_relaxed;

std::size_t errc_slot(errc e) noexcept {
  const auto v = static_cast<std::size_t>(e);
  return v < stats_buckets::errc_slots ? v : 0;
}

std::size_t status_class_slot(int status) noexcept {
  return status >= 100 && status <= 599 ? static_cast<std::size_t>(status / 100) : 0;
}

std::size_t close_slot(close_code code) noexcept {
  const auto v = static_cast<std::size_t>(code);
  return v >= 1000 && v <= 1015 ? v - 1000 : stats_buckets::close_slots - 1;
}

// RFC 6455 §7.4.1 names (1004 reserved; 1015 is never on the wire, like 1005 and 1006).
const char* close_name(std::size_t slot) noexcept {
  static constexpr const char* names[stats_buckets::close_slots] = {"1000 normal",
                                                                    "1001 going away",
                                                                    "1002 protocol error",
                                                                    "1003 unsupported data",
                                                                    "1004 reserved",
                                                                    "1005 no status",
                                                                    "1006 abnormal",
                                                                    "1007 invalid payload",
                                                                    "1008 policy violation",
                                                                    "1009 message too big",
                                                                    "1010 mandatory extension",
                                                                    "1011 internal error",
                                                                    "1012 service restart",
                                                                    "1013 try again later",
                                                                    "1014 bad gateway",
                                                                    "1015 TLS handshake",
                                                                    "other codes"};
  return names[slot];
}

template <std::size_t N>
std::uint64_t sum(const std::array<std::uint64_t, N>& a) noexcept {
  return std::accumulate(a.begin(), a.end(), std::uint64_t{0});
}

template <std::size_t N>
void copy(const std::array<std::atomic<std::uint64_t>, N>& from,
          std::array<std::uint64_t, N>& to) noexcept {
  for (std::size_t i = 0; i < N; ++i) to[i] = from[i].load(relaxed);
}

void line(std::string& out, const char* name, std::uint64_t value) {
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void bucket(std::string& out, std::uint64_t value, const std::string& label) {
  if (value == 0) return;
  out += "  ";
  out += std::to_string(value);
  out += "  ";
  out += label;
  out += '\n';
}

// Indexed by errc value; [0] is the catch-all.
constexpr const char* errc_names[] = {
    "other",
    "invalid_state",
    "invalid_argument",
    "output_limit",
    "closed",
    "bad_request",
    "not_get",
    "bad_http_version",
    "missing_host",
    "missing_upgrade",
    "missing_connection_upgrade",
    "bad_version",
    "bad_key",
    "upgrade_with_body",
    "headers_too_large",
    "upgrade_rejected",
    "bad_status",
    "bad_response",
    "bad_accept",
    "bad_subprotocol",
    "bad_extension",
    "bad_deflate_answer",
    "protocol_error",
    "bad_opcode",
    "reserved_bits",
    "bad_masking",
    "fragmented_control",
    "control_too_large",
    "bad_continuation",
    "expected_continuation",
    "bad_length",
    "invalid_utf8",
    "bad_close_payload",
    "bad_close_code",
    "frame_too_large",
    "message_too_large",
    "too_many_fragments",
    "bad_rsv1",
    "bad_compressed_data",
    "inflated_too_large",
    "compression_failed",
    "handshake_timeout",
    "heartbeat_timeout",
    "idle_timeout",
    "write_timeout",
    "close_timeout",
    "eof_without_close",
};
static_assert(std::size(errc_names) == stats_buckets::errc_slots,
              "errc_names must name every errc (update it with the enum)");

// "# HELP name help\n# TYPE name type\n".
void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `name{labels} value\n`, or `name value\n` when labels is empty.
void sample(std::string& out, const char* name, const std::string& labels, std::uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void single(std::string& out, const char* name, const char* type, const char* help,
            std::uint64_t value) {
  family(out, name, type, help);
  sample(out, name, {}, value);
}

}  // namespace

const char* errc_name(errc e) noexcept { return errc_names[errc_slot(e)]; }

std::uint64_t stats_snapshot::handshakes_rejected_total() const noexcept {
  return sum(handshakes_rejected) + sum(app_rejected);
}

std::uint64_t stats_snapshot::closes_total() const noexcept { return sum(closes); }

void stats::count_open() noexcept { open_connections.fetch_add(1, relaxed); }

void stats::count_close(close_code code, std::error_code ec) noexcept {
  open_connections.fetch_sub(1, relaxed);
  closes[close_slot(code)].fetch_add(1, relaxed);
  if (ec == errc::heartbeat_timeout) heartbeat_timeouts.fetch_add(1, relaxed);
  if (ec == errc::write_timeout) write_timeouts.fetch_add(1, relaxed);
}

void stats::count_handshake_accepted() noexcept { handshakes_accepted.fetch_add(1, relaxed); }

void stats::count_handshake_rejected(errc reason) noexcept {
  handshakes_rejected[errc_slot(reason)].fetch_add(1, relaxed);
}

void stats::count_app_rejected(int http_status) noexcept {
  app_rejected[status_class_slot(http_status)].fetch_add(1, relaxed);
}

void stats::count_messages_in(std::uint64_t n) noexcept { messages_in.fetch_add(n, relaxed); }
void stats::count_messages_out(std::uint64_t n) noexcept { messages_out.fetch_add(n, relaxed); }
void stats::count_bytes_in(std::uint64_t n) noexcept { bytes_in.fetch_add(n, relaxed); }
void stats::count_bytes_out(std::uint64_t n) noexcept { bytes_out.fetch_add(n, relaxed); }
void stats::count_message_dropped() noexcept { messages_dropped.fetch_add(1, relaxed); }

stats_snapshot stats::snapshot() const noexcept {
  stats_snapshot s;
  s.open_connections = open_connections.load(relaxed);
  s.handshakes_accepted = handshakes_accepted.load(relaxed);
  copy(handshakes_rejected, s.handshakes_rejected);
  copy(app_rejected, s.app_rejected);
  s.messages_in = messages_in.load(relaxed);
  s.messages_out = messages_out.load(relaxed);
  s.bytes_in = bytes_in.load(relaxed);
  s.bytes_out = bytes_out.load(relaxed);
  copy(closes, s.closes);
  s.heartbeat_timeouts = heartbeat_timeouts.load(relaxed);
  s.write_timeouts = write_timeouts.load(relaxed);
  s.messages_dropped = messages_dropped.load(relaxed);
  return s;
}

std::string to_text(const stats_snapshot& s) {
  std::string out;
  line(out, "open_connections", s.open_connections);
  line(out, "users", s.users);
  line(out, "handshakes_accepted", s.handshakes_accepted);
  line(out, "handshakes_rejected", s.handshakes_rejected_total());
  for (std::size_t v = 1; v < s.handshakes_rejected.size(); ++v) {
    const auto e = static_cast<errc>(v);
    const int status = to_http_status(e);
    const std::string prefix = status != 0 ? std::to_string(status) + " " : std::string{};
    bucket(out, s.handshakes_rejected[v], prefix + make_error_code(e).message());
  }
  bucket(out, s.handshakes_rejected[0], "other core reasons");
  for (std::size_t c = 1; c < s.app_rejected.size(); ++c) {
    bucket(out, s.app_rejected[c], "application " + std::to_string(c) + "xx");
  }
  bucket(out, s.app_rejected[0], "application, status outside 100-599");
  line(out, "messages_in", s.messages_in);
  line(out, "messages_out", s.messages_out);
  line(out, "bytes_in", s.bytes_in);
  line(out, "bytes_out", s.bytes_out);
  line(out, "closes", s.closes_total());
  for (std::size_t i = 0; i < s.closes.size(); ++i) bucket(out, s.closes[i], close_name(i));
  line(out, "heartbeat_timeouts", s.heartbeat_timeouts);
  line(out, "write_timeouts", s.write_timeouts);
  line(out, "messages_dropped", s.messages_dropped);
  return out;
}

std::string to_prometheus(const stats_snapshot& s) {
  std::string out;
  single(out, "wsx_open_connections", "gauge", "WebSocket sessions open now.", s.open_connections);
  single(out, "wsx_users", "gauge", "Distinct users with an open session.", s.users);
  single(out, "wsx_handshakes_accepted_total", "counter", "Upgrades accepted.",
         s.handshakes_accepted);

  constexpr const char* refusals = "wsx_handshakes_rejected_total";
  family(out, refusals, "counter",
         "Upgrades refused, by the core (reason: the errc) or by the application's hook.");
  for (std::size_t v = 0; v < s.handshakes_rejected.size(); ++v) {
    const int status = v == 0 ? 0 : to_http_status(static_cast<errc>(v));
    if (status == 0 && s.handshakes_rejected[v] == 0) continue;
    sample(out, refusals,
           std::string("source=\"core\",reason=\"") + errc_names[v] + "\",status=\"" +
               (status == 0 ? std::string("none") : std::to_string(status)) + '"',
           s.handshakes_rejected[v]);
  }
  for (std::size_t c = 1; c <= s.app_rejected.size(); ++c) {
    const std::size_t slot = c % s.app_rejected.size();  // the catch-all [0] last
    if (slot == 0 && s.app_rejected[0] == 0) continue;
    sample(out, refusals,
           "source=\"application\",reason=\"upgrade_rejected\",status=\"" +
               (slot == 0 ? std::string("other") : std::to_string(slot) + "xx") + '"',
           s.app_rejected[slot]);
  }

  single(out, "wsx_messages_received_total", "counter", "Whole messages received.", s.messages_in);
  single(out, "wsx_messages_sent_total", "counter",
         "Whole messages queued for sending (a broadcast counts once per recipient).",
         s.messages_out);
  single(out, "wsx_received_bytes_total", "counter",
         "Wire bytes read from sockets (handshakes and frames).", s.bytes_in);
  single(out, "wsx_sent_bytes_total", "counter", "Wire bytes written to sockets.", s.bytes_out);

  constexpr const char* ends = "wsx_sessions_closed_total";
  family(out, ends, "counter",
         "Sessions ended, by close code (1006: no closing handshake; other: codes outside "
         "1000-1015).");
  for (std::size_t i = 0; i < s.closes.size(); ++i) {
    const bool other = i == stats_buckets::close_slots - 1;
    if (other && s.closes[i] == 0) continue;
    sample(out, ends, "code=\"" + (other ? std::string("other") : std::to_string(1000 + i)) + '"',
           s.closes[i]);
  }

  single(out, "wsx_heartbeat_timeouts_total", "counter",
         "Sessions ended because no pong came back in time.", s.heartbeat_timeouts);
  single(out, "wsx_write_timeouts_total", "counter",
         "Sessions ended because their output did not move in time.", s.write_timeouts);
  single(out, "wsx_messages_dropped_total", "counter", "Messages the backpressure policy refused.",
         s.messages_dropped);
  return out;
}

}  // namespace wsx
