// Tests for wsx::errc, its categories and conditions, and the close-code / HTTP-status maps.
//
// One table below restates, independently of errors.cpp, what every errc must map to; the
// tests walk it so that a new enumerator without a row fails loudly. docs/errors.md is checked
// against the category's messages when the source tree is reachable from the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "wsx/errors.hpp"

namespace {

using wsx::close_code;
using wsx::condition;
using wsx::errc;

struct expectation {
  errc code;
  std::vector<condition> conditions;  // every condition the code compares equal to
  close_code close;
  int http_status;
};

const std::vector<expectation>& table() {
  using enum condition;
  constexpr auto p = close_code::protocol_error;
  constexpr auto abn = close_code::abnormal;
  static const std::vector<expectation> rows = {
      {errc::invalid_state, {local_misuse}, abn, 0},
      {errc::invalid_argument, {local_misuse}, abn, 0},
      {errc::output_limit, {resource_limit}, abn, 0},
      {errc::closed, {local_misuse}, abn, 0},
      {errc::bad_request, {handshake_failed}, abn, 400},
      {errc::not_get, {handshake_failed}, abn, 405},
      {errc::bad_http_version, {handshake_failed}, abn, 400},
      {errc::missing_host, {handshake_failed}, abn, 400},
      {errc::missing_upgrade, {handshake_failed}, abn, 426},
      {errc::missing_connection_upgrade, {handshake_failed}, abn, 426},
      {errc::bad_version, {handshake_failed}, abn, 426},
      {errc::bad_key, {handshake_failed}, abn, 400},
      {errc::upgrade_with_body, {handshake_failed}, abn, 400},
      {errc::headers_too_large, {handshake_failed}, abn, 431},
      {errc::upgrade_rejected, {handshake_failed}, abn, 0},
      {errc::bad_status, {handshake_failed}, abn, 0},
      {errc::bad_response, {handshake_failed}, abn, 0},
      {errc::bad_accept, {handshake_failed}, abn, 0},
      {errc::bad_subprotocol, {handshake_failed}, abn, 0},
      {errc::bad_extension, {handshake_failed}, abn, 0},
      {errc::bad_deflate_answer, {handshake_failed}, close_code::mandatory_extension, 0},
      {errc::protocol_error, {protocol_violation}, p, 0},
      {errc::bad_opcode, {protocol_violation}, p, 0},
      {errc::reserved_bits, {protocol_violation}, p, 0},
      {errc::bad_masking, {protocol_violation}, p, 0},
      {errc::fragmented_control, {protocol_violation}, p, 0},
      {errc::control_too_large, {protocol_violation}, p, 0},
      {errc::bad_continuation, {protocol_violation}, p, 0},
      {errc::expected_continuation, {protocol_violation}, p, 0},
      {errc::bad_length, {protocol_violation}, p, 0},
      {errc::invalid_utf8, {protocol_violation}, close_code::invalid_payload, 0},
      {errc::bad_close_payload, {protocol_violation}, p, 0},
      {errc::bad_close_code, {protocol_violation}, p, 0},
      {errc::frame_too_large, {resource_limit}, close_code::message_too_big, 0},
      {errc::message_too_large, {resource_limit}, close_code::message_too_big, 0},
      {errc::too_many_fragments, {resource_limit}, close_code::message_too_big, 0},
      {errc::bad_rsv1, {protocol_violation}, p, 0},
      {errc::bad_compressed_data, {protocol_violation}, close_code::invalid_payload, 0},
      {errc::inflated_too_large, {resource_limit}, close_code::message_too_big, 0},
      {errc::compression_failed, {resource_limit}, close_code::internal_error, 0},
      {errc::handshake_timeout, {handshake_failed, timeout}, abn, 0},
      {errc::heartbeat_timeout, {timeout}, abn, 0},
      {errc::idle_timeout, {timeout}, close_code::going_away, 0},
      {errc::write_timeout, {timeout}, abn, 0},
      {errc::close_timeout, {timeout}, abn, 0},
      {errc::eof_without_close, {}, abn, 0},
  };
  return rows;
}

constexpr std::initializer_list<condition> all_conditions = {
    condition::protocol_violation, condition::handshake_failed, condition::resource_limit,
    condition::timeout, condition::local_misuse};

std::string label(errc e) { return "errc " + std::to_string(static_cast<int>(e)); }

bool contains(const std::vector<condition>& v, condition c) {
  for (condition x : v) {
    if (x == c) return true;
  }
  return false;
}

TEST(errors, table_covers_every_errc_in_order) {
  const auto& rows = table();
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(errc::eof_without_close));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(rows[i].code), i + 1);
  }
}

TEST(errors, categories_have_their_names) {
  EXPECT_STREQ(wsx::error_category().name(), "wsx");
  EXPECT_STREQ(wsx::condition_category().name(), "wsx.condition");
  std::error_code ec = errc::bad_opcode;
  EXPECT_EQ(&ec.category(), &wsx::error_category());
  std::error_condition cond = condition::timeout;
  EXPECT_EQ(&cond.category(), &wsx::condition_category());
}

TEST(errors, every_code_has_a_distinct_message) {
  std::set<std::string> seen;
  const std::string unknown = wsx::error_category().message(0);
  for (const auto& row : table()) {
    const std::string m = std::error_code(row.code).message();
    EXPECT_FALSE(m.empty()) << label(row.code);
    EXPECT_NE(m, unknown) << label(row.code);
    EXPECT_TRUE(seen.insert(m).second) << label(row.code) << " repeats \"" << m << "\"";
  }
}

TEST(errors, messages_name_the_problem) {
  EXPECT_EQ(std::error_code(errc::missing_upgrade).message(),
            "Upgrade: websocket header missing (a proxy may have dropped it)");
  EXPECT_NE(std::error_code(errc::missing_connection_upgrade).message().find("Connection"),
            std::string::npos);
  EXPECT_NE(std::error_code(errc::bad_version).message().find("13"), std::string::npos);
  EXPECT_NE(std::error_code(errc::control_too_large).message().find("125"), std::string::npos);
  EXPECT_NE(std::error_code(errc::output_limit).message().find("max_buffered_output"),
            std::string::npos);
}

TEST(errors, unknown_values_get_a_message_and_safe_mappings) {
  EXPECT_EQ(wsx::error_category().message(9999), "unknown wsx error");
  EXPECT_EQ(wsx::condition_category().message(9999), "unknown wsx condition");
  const auto bogus = static_cast<errc>(9999);
  EXPECT_EQ(wsx::to_close_code(bogus), close_code::abnormal);
  EXPECT_EQ(wsx::to_http_status(bogus), 0);
  const std::error_code ec = bogus;
  for (condition c : all_conditions) EXPECT_FALSE(ec == c);
}

TEST(errors, every_condition_has_a_distinct_message) {
  std::set<std::string> seen;
  for (condition c : all_conditions) {
    const std::string m = std::error_condition(c).message();
    EXPECT_FALSE(m.empty());
    EXPECT_TRUE(seen.insert(m).second) << m;
  }
}

TEST(errors, each_code_compares_equal_to_exactly_its_conditions) {
  for (const auto& row : table()) {
    const std::error_code ec = row.code;
    for (condition c : all_conditions) {
      EXPECT_EQ(ec == c, contains(row.conditions, c))
          << label(row.code) << " (" << ec.message() << ") vs condition " << static_cast<int>(c);
      EXPECT_EQ(ec != c, !contains(row.conditions, c)) << label(row.code);
    }
  }
}

TEST(errors, the_documented_comparison_works) {
  std::error_code ec = errc::invalid_utf8;
  EXPECT_TRUE(ec == wsx::condition::protocol_violation);
  EXPECT_FALSE(ec == wsx::condition::resource_limit);
  ec = errc::handshake_timeout;
  EXPECT_TRUE(ec == wsx::condition::timeout);
  EXPECT_TRUE(ec == wsx::condition::handshake_failed);
}

TEST(errors, default_error_condition_is_the_primary_condition) {
  for (const auto& row : table()) {
    const std::error_condition d = std::error_code(row.code).default_error_condition();
    if (row.conditions.empty()) {
      EXPECT_EQ(&d.category(), &wsx::error_category()) << label(row.code);
      EXPECT_EQ(d.value(), static_cast<int>(row.code));
    } else {
      EXPECT_EQ(d, std::error_condition(row.conditions.front())) << label(row.code);
    }
  }
}

TEST(errors, conditions_do_not_claim_foreign_codes) {
  const std::error_code timed_out = std::make_error_code(std::errc::timed_out);
  EXPECT_FALSE(timed_out == condition::timeout);
  // A foreign code with the same integer value as a wsx code is not that code.
  const std::error_code same_value(static_cast<int>(errc::bad_opcode), std::generic_category());
  EXPECT_FALSE(same_value == condition::protocol_violation);
  EXPECT_NE(same_value, std::error_code(errc::bad_opcode));
}

TEST(errors, close_codes) {
  for (const auto& row : table()) {
    EXPECT_EQ(wsx::to_close_code(row.code), row.close) << label(row.code);
  }
}

TEST(errors, close_code_follows_the_condition) {
  for (const auto& row : table()) {
    const std::error_code ec = row.code;
    const close_code cc = wsx::to_close_code(row.code);
    // The one handshake failure with a close frame: the client got its 101 and fails the
    // established connection for a bad permessage-deflate answer (RFC 7692 §5).
    if ((ec == condition::handshake_failed && row.code != errc::bad_deflate_answer) ||
        ec == condition::local_misuse) {
      EXPECT_EQ(cc, close_code::abnormal) << label(row.code);
    }
    if (ec == condition::protocol_violation) {
      EXPECT_TRUE(cc == close_code::protocol_error || cc == close_code::invalid_payload)
          << label(row.code);
    }
  }
}

TEST(errors, http_statuses) {
  for (const auto& row : table()) {
    EXPECT_EQ(wsx::to_http_status(row.code), row.http_status) << label(row.code);
  }
}

TEST(errors, only_server_handshake_codes_have_an_http_status) {
  for (const auto& row : table()) {
    if (wsx::to_http_status(row.code) != 0) {
      EXPECT_TRUE(std::error_code(row.code) == condition::handshake_failed) << label(row.code);
    }
  }
}

// docs/errors.md lists every message verbatim; keep it in step with the category.
TEST(errors, docs_list_every_message) {
  const std::filesystem::path doc =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "docs" / "errors.md";
  std::ifstream in(doc);
  if (!in) GTEST_SKIP() << "source tree not reachable from " << doc;
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  for (const auto& row : table()) {
    const std::string m = std::error_code(row.code).message();
    EXPECT_NE(s.find(m), std::string::npos) << "docs/errors.md lacks: " << m;
  }
}

}  // namespace
