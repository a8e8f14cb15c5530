// Tests for wsx::stats: each count_* command lands in its bucket (out-of-range inputs in the
// catch-all), the gauge goes up and down, timeouts are recognised from the close's error,
// snapshot totals, the text report, the Prometheus exposition (its exact text, and every line of
// it through a small checker of the format's grammar), and exact totals after concurrent bumps
// from 8 threads.
#include "wsx/common/stats.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wsx::close_code;
using wsx::errc;

std::size_t slot(errc e) { return static_cast<std::size_t>(e); }

TEST(stats, starts_at_zero) {
  const wsx::stats s;
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.handshakes_rejected_total(), 0u);
  EXPECT_EQ(snap.closes_total(), 0u);
  EXPECT_EQ(snap.users, 0u);
}

TEST(stats, open_and_close_move_the_gauge_and_count_codes) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_open();
  s.count_close(close_code::normal);
  s.count_close(static_cast<close_code>(4000));
  auto snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 1u);
  EXPECT_EQ(snap.closes[0], 1u);   // 1000
  EXPECT_EQ(snap.closes[16], 1u);  // other
  EXPECT_EQ(snap.closes_total(), 2u);
  s.count_close(close_code::abnormal, errc::heartbeat_timeout);
  snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.closes[6], 1u);
  EXPECT_EQ(snap.heartbeat_timeouts, 1u);
  EXPECT_EQ(snap.write_timeouts, 0u);
}

TEST(stats, timeouts_are_counted_from_the_close_error) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_open();
  s.count_close(close_code::abnormal, errc::write_timeout);
  s.count_close(close_code::abnormal, errc::heartbeat_timeout);
  s.count_close(close_code::going_away, errc::idle_timeout);
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.write_timeouts, 1u);
  EXPECT_EQ(snap.heartbeat_timeouts, 1u);
  EXPECT_EQ(snap.closes[1], 1u);
  EXPECT_EQ(snap.closes[6], 2u);
}

TEST(stats, rejections_by_reason_and_status_class) {
  wsx::stats s;
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::bad_key);
  s.count_handshake_rejected(static_cast<errc>(9999));
  s.count_app_rejected(401);
  s.count_app_rejected(403);
  s.count_app_rejected(503);
  s.count_app_rejected(0);
  s.count_handshake_accepted();
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::missing_upgrade)], 2u);
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::bad_key)], 1u);
  EXPECT_EQ(snap.handshakes_rejected[0], 1u);
  EXPECT_EQ(snap.app_rejected[4], 2u);
  EXPECT_EQ(snap.app_rejected[5], 1u);
  EXPECT_EQ(snap.app_rejected[0], 1u);
  EXPECT_EQ(snap.handshakes_rejected_total(), 8u);
  EXPECT_EQ(snap.handshakes_accepted, 1u);
}

TEST(stats, messages_and_bytes) {
  wsx::stats s;
  s.count_messages_in();
  s.count_messages_out(40);
  s.count_bytes_in(100);
  s.count_bytes_out(7);
  s.count_bytes_out(3);
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.messages_in, 1u);
  EXPECT_EQ(snap.messages_out, 40u);
  EXPECT_EQ(snap.bytes_in, 100u);
  EXPECT_EQ(snap.bytes_out, 10u);
}

TEST(stats, text_report_names_every_counter_and_non_zero_bucket) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_close(close_code::normal);
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_app_rejected(401);
  s.count_messages_in(3);
  auto snap = s.snapshot();
  snap.users = 1;
  const std::string text = wsx::to_text(snap);
  EXPECT_THAT(text, HasSubstr("open_connections 1\n"));
  EXPECT_THAT(text, HasSubstr("users 1\n"));
  EXPECT_THAT(text, HasSubstr("handshakes_accepted 0\n"));
  EXPECT_THAT(text, HasSubstr("handshakes_rejected 2\n"));
  EXPECT_THAT(text, HasSubstr("  1  426 Upgrade: websocket header missing"));
  EXPECT_THAT(text, HasSubstr("  1  application 4xx\n"));
  EXPECT_THAT(text, HasSubstr("messages_in 3\n"));
  EXPECT_THAT(text, HasSubstr("closes 1\n  1  1000 normal\n"));
  EXPECT_THAT(text, HasSubstr("heartbeat_timeouts 0\n"));
  EXPECT_THAT(text, HasSubstr("write_timeouts 0\n"));
  EXPECT_THAT(text, HasSubstr("messages_dropped 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("1006")));  // zero buckets are omitted
  EXPECT_EQ(text.back(), '\n');
}

TEST(stats, concurrent_bumps_are_exact) {
  wsx::stats s;
  constexpr int threads = 8;
  constexpr int rounds = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&s] {
      for (int i = 0; i < rounds; ++i) {
        s.count_open();
        s.count_messages_in();
        s.count_bytes_out(3);
        s.count_handshake_rejected(errc::bad_version);
        s.count_close(close_code::going_away);
      }
    });
  }
  for (auto& t : pool) t.join();
  const auto snap = s.snapshot();
  constexpr std::uint64_t n = std::uint64_t{threads} * rounds;
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.messages_in, n);
  EXPECT_EQ(snap.bytes_out, 3 * n);
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::bad_version)], n);
  EXPECT_EQ(snap.closes[1], n);
}

}  // namespace

TEST(stats, dropped_messages_are_counted_and_reported) {
  wsx::stats s;
  s.count_message_dropped();
  s.count_message_dropped();
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.messages_dropped, 2u);
  EXPECT_EQ(snap.messages_out, 0u);
  EXPECT_THAT(wsx::to_text(snap), HasSubstr("messages_dropped 2\n"));
}

TEST(stats, errc_names_are_the_enumerators) {
  EXPECT_STREQ(wsx::errc_name(errc::invalid_state), "invalid_state");
  EXPECT_STREQ(wsx::errc_name(errc::missing_upgrade), "missing_upgrade");
  EXPECT_STREQ(wsx::errc_name(errc::headers_too_large), "headers_too_large");
  EXPECT_STREQ(wsx::errc_name(errc::too_many_fragments), "too_many_fragments");
  EXPECT_STREQ(wsx::errc_name(errc::bad_deflate_answer), "bad_deflate_answer");
  EXPECT_STREQ(wsx::errc_name(errc::bad_rsv1), "bad_rsv1");
  EXPECT_STREQ(wsx::errc_name(errc::bad_compressed_data), "bad_compressed_data");
  EXPECT_STREQ(wsx::errc_name(errc::inflated_too_large), "inflated_too_large");
  EXPECT_STREQ(wsx::errc_name(errc::compression_failed), "compression_failed");
  EXPECT_STREQ(wsx::errc_name(errc::eof_without_close), "eof_without_close");
  EXPECT_STREQ(wsx::errc_name(static_cast<errc>(9999)), "other");
}

TEST(stats, prometheus_exposition_is_exact) {
  wsx::stats s;
  for (int i = 0; i < 3; ++i) s.count_open();
  s.count_close(close_code::normal);
  s.count_close(static_cast<close_code>(4001));
  s.count_handshake_accepted();
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::handshake_timeout);
  s.count_app_rejected(401);
  s.count_messages_in(5);
  s.count_messages_out(6);
  s.count_bytes_in(700);
  s.count_bytes_out(80);
  s.count_message_dropped();
  auto snap = s.snapshot();
  snap.users = 1;
  EXPECT_EQ(
      wsx::to_prometheus(snap),
      "# HELP wsx_open_connections WebSocket sessions open now.\n"
      "# TYPE wsx_open_connections gauge\n"
      "wsx_open_connections 1\n"
      "# HELP wsx_users Distinct users with an open session.\n"
      "# TYPE wsx_users gauge\n"
      "wsx_users 1\n"
      "# HELP wsx_handshakes_accepted_total Upgrades accepted.\n"
      "# TYPE wsx_handshakes_accepted_total counter\n"
      "wsx_handshakes_accepted_total 1\n"
      "# HELP wsx_handshakes_rejected_total Upgrades refused, by the core (reason: the "
      "errc) or by the application's hook.\n"
      "# TYPE wsx_handshakes_rejected_total counter\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"bad_request\",status=\"400\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"not_get\",status=\"405\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"bad_http_version\",status="
      "\"400\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"missing_host\",status=\"400\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"missing_upgrade\",status="
      "\"426\"} 2\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"missing_connection_upgrade\","
      "status=\"426\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"bad_version\",status=\"426\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"bad_key\",status=\"400\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"upgrade_with_body\",status="
      "\"400\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"headers_too_large\",status="
      "\"431\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"core\",reason=\"handshake_timeout\",status="
      "\"none\"} 1\n"
      "wsx_handshakes_rejected_total{source=\"application\",reason=\"upgrade_rejected\","
      "status=\"1xx\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"application\",reason=\"upgrade_rejected\","
      "status=\"2xx\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"application\",reason=\"upgrade_rejected\","
      "status=\"3xx\"} 0\n"
      "wsx_handshakes_rejected_total{source=\"application\",reason=\"upgrade_rejected\","
      "status=\"4xx\"} 1\n"
      "wsx_handshakes_rejected_total{source=\"application\",reason=\"upgrade_rejected\","
      "status=\"5xx\"} 0\n"
      "# HELP wsx_messages_received_total Whole messages received.\n"
      "# TYPE wsx_messages_received_total counter\n"
      "wsx_messages_received_total 5\n"
      "# HELP wsx_messages_sent_total Whole messages queued for sending (a broadcast counts "
      "once per recipient).\n"
      "# TYPE wsx_messages_sent_total counter\n"
      "wsx_messages_sent_total 6\n"
      "# HELP wsx_received_bytes_total Wire bytes read from sockets (handshakes and "
      "frames).\n"
      "# TYPE wsx_received_bytes_total counter\n"
      "wsx_received_bytes_total 700\n"
      "# HELP wsx_sent_bytes_total Wire bytes written to sockets.\n"
      "# TYPE wsx_sent_bytes_total counter\n"
      "wsx_sent_bytes_total 80\n"
      "# HELP wsx_sessions_closed_total Sessions ended, by close code (1006: no closing "
      "handshake; other: codes outside 1000-1015).\n"
      "# TYPE wsx_sessions_closed_total counter\n"
      "wsx_sessions_closed_total{code=\"1000\"} 1\n"
      "wsx_sessions_closed_total{code=\"1001\"} 0\n"
      "wsx_sessions_closed_total{code=\"1002\"} 0\n"
      "wsx_sessions_closed_total{code=\"1003\"} 0\n"
      "wsx_sessions_closed_total{code=\"1004\"} 0\n"
      "wsx_sessions_closed_total{code=\"1005\"} 0\n"
      "wsx_sessions_closed_total{code=\"1006\"} 0\n"
      "wsx_sessions_closed_total{code=\"1007\"} 0\n"
      "wsx_sessions_closed_total{code=\"1008\"} 0\n"
      "wsx_sessions_closed_total{code=\"1009\"} 0\n"
      "wsx_sessions_closed_total{code=\"1010\"} 0\n"
      "wsx_sessions_closed_total{code=\"1011\"} 0\n"
      "wsx_sessions_closed_total{code=\"1012\"} 0\n"
      "wsx_sessions_closed_total{code=\"1013\"} 0\n"
      "wsx_sessions_closed_total{code=\"1014\"} 0\n"
      "wsx_sessions_closed_total{code=\"1015\"} 0\n"
      "wsx_sessions_closed_total{code=\"other\"} 1\n"
      "# HELP wsx_heartbeat_timeouts_total Sessions ended because no pong came back in "
      "time.\n"
      "# TYPE wsx_heartbeat_timeouts_total counter\n"
      "wsx_heartbeat_timeouts_total 0\n"
      "# HELP wsx_write_timeouts_total Sessions ended because their output did not move in "
      "time.\n"
      "# TYPE wsx_write_timeouts_total counter\n"
      "wsx_write_timeouts_total 0\n"
      "# HELP wsx_messages_dropped_total Messages the backpressure policy refused.\n"
      "# TYPE wsx_messages_dropped_total counter\n"
      "wsx_messages_dropped_total 1\n");
}

namespace {

// A checker of the Prometheus text exposition format (0.0.4) as to_prometheus uses it: every
// line is "# HELP name text", "# TYPE name counter|gauge" or a sample "name{l="v",...} value"
// with an unsigned integer value; each family has one HELP then one TYPE before its samples,
// appears once, and its samples are contiguous; counters end in _total; metric and label names
// follow the grammar; label values are escaped; no two samples are the same series. Returns
// what is wrong with the first bad line, or an empty string.
class exposition_checker {
 public:
  std::string check(const std::string& text) {
    if (text.empty() || text.back() != '\n') return "does not end with a newline";
    std::istringstream in(text);
    std::string l;
    for (int n = 1; std::getline(in, l); ++n) {
      const std::string why = line(l);
      if (!why.empty()) return "line " + std::to_string(n) + ": " + why + ": " + l;
    }
    if (!help_.empty() || !type_.empty()) return "family " + current_ + " has no samples";
    return {};
  }

 private:
  static bool metric_name(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (const char c : s)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
    return true;
  }
  static bool label_name(const std::string& s) {
    return metric_name(s) && s.find(':') == std::string::npos && !s.starts_with("__");
  }

  std::string line(const std::string& l) {
    if (l.starts_with("# HELP ")) {
      const std::size_t sp = l.find(' ', 7);
      if (sp == std::string::npos || sp + 1 >= l.size()) return "bad HELP";
      const std::string name = l.substr(7, sp - 7);
      if (!metric_name(name)) return "bad metric name in HELP";
      if (!help_.empty() || !type_.empty()) return "previous family has no samples";
      if (!families_.insert(name).second) return "family declared twice";
      current_ = help_ = name;
      return {};
    }
    if (l.starts_with("# TYPE ")) {
      const std::size_t sp = l.find(' ', 7);
      if (sp == std::string::npos) return "bad TYPE";
      const std::string name = l.substr(7, sp - 7);
      const std::string type = l.substr(sp + 1);
      if (name != help_) return "TYPE without its HELP just before";
      if (type != "counter" && type != "gauge") return "unknown type";
      if (type == "counter" && !name.ends_with("_total")) return "counter not named *_total";
      help_.clear();
      type_ = name;
      return {};
    }
    if (l.empty() || l[0] == '#') return "unexpected comment or blank line";
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ') ++i;
    const std::string name = l.substr(0, i);
    if (!metric_name(name)) return "bad metric name";
    if (name != current_ || !help_.empty()) return "sample outside its family";
    type_.clear();
    std::string labels;
    if (i < l.size() && l[i] == '{') {
      ++i;
      std::set<std::string> seen;
      while (i < l.size() && l[i] != '}') {
        const std::size_t eq = l.find('=', i);
        if (eq == std::string::npos) return "label without '='";
        const std::string label = l.substr(i, eq - i);
        if (!label_name(label) || !seen.insert(label).second) return "bad or repeated label";
        i = eq + 1;
        if (i >= l.size() || l[i] != '"') return "label value not quoted";
        for (++i; i < l.size() && l[i] != '"'; ++i) {
          if (l[i] != '\\') continue;
          if (i + 1 >= l.size() || (l[i + 1] != '\\' && l[i + 1] != '"' && l[i + 1] != 'n'))
            return "bad escape in a label value";
          ++i;
        }
        if (i >= l.size()) return "unterminated label value";
        ++i;
        if (i < l.size() && l[i] == ',') ++i;
      }
      if (i >= l.size()) return "unterminated labels";
      labels = l.substr(name.size(), i + 1 - name.size());
      ++i;
    }
    if (i >= l.size() || l[i] != ' ') return "no space before the value";
    const std::string value = l.substr(i + 1);
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
      return "value is not an unsigned integer";
    if (!series_.insert(name + labels).second) return "duplicate series";
    return {};
  }

  std::set<std::string> families_;
  std::set<std::string> series_;
  std::string current_;  // the family whose samples may follow
  std::string help_;     // set between a HELP and its TYPE
  std::string type_;     // set between a TYPE and the family's first sample
};

}  // namespace

TEST(stats, prometheus_exposition_passes_the_format_checker) {
  // Zero, then every bucket non-zero (the catch-alls appear), then a value at the top.
  wsx::stats s;
  EXPECT_EQ(exposition_checker{}.check(wsx::to_prometheus(s.snapshot())), "");
  for (std::size_t v = 0; v < wsx::stats_buckets::errc_slots; ++v)
    s.count_handshake_rejected(static_cast<errc>(v));
  for (const int status : {0, 101, 204, 302, 404, 503, 600}) s.count_app_rejected(status);
  for (int code = 999; code <= 1016; ++code) {
    s.count_open();
    s.count_close(static_cast<close_code>(code), errc::write_timeout);
  }
  s.count_bytes_in(UINT64_MAX);
  auto snap = s.snapshot();
  snap.users = 7;
  const std::string text = wsx::to_prometheus(snap);
  EXPECT_EQ(exposition_checker{}.check(text), "");
  EXPECT_THAT(text, HasSubstr("wsx_handshakes_rejected_total{source=\"core\",reason=\"other\","
                              "status=\"none\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("wsx_handshakes_rejected_total{source=\"core\",reason=\"closed\","
                              "status=\"none\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("{source=\"application\",reason=\"upgrade_rejected\",status="
                              "\"other\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("wsx_sessions_closed_total{code=\"other\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("wsx_write_timeouts_total 18\n"));
  EXPECT_THAT(text, HasSubstr("wsx_received_bytes_total 18446744073709551615\n"));
}

TEST(stats, the_format_checker_refuses_what_prometheus_would) {
  const auto bad = [](const std::string& t) { return !exposition_checker{}.check(t).empty(); };
  const std::string ok = "# HELP a_total h\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
  EXPECT_EQ(exposition_checker{}.check(ok), "");
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a counter\na 2\n"));     // counter without _total
  EXPECT_TRUE(bad("# TYPE a gauge\na 2\n"));                   // no HELP
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\nb 2\n"));       // sample of another family
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\na{x=1} 2\n"));  // unquoted label value
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\na{x=\"1\"} 2\na{x=\"1\"} 3\n"));  // same series
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\na -1\n"));  // not an unsigned value
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\na 1"));     // no final newline
  EXPECT_TRUE(bad("# HELP a h\n# TYPE a gauge\n"));        // no samples
  EXPECT_TRUE(bad(ok + ok));                               // family twice
}
