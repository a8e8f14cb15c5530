// Tests for detail::http_fields, the HTTP field syntax the handshake reads and writes headers
// with: case-insensitive names, lists across repeated headers, quoted commas, the one-line and
// printable forms that keep peer input out of header lines and reasons. The validity checks and
// the response builders are tested through the handshake (handshake_test.cpp), where they are
// used.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "detail/http_fields.hpp"

namespace {

using wsx::header_field;
using namespace wsx::detail;

TEST(http_fields, ascii_iequals_ignores_ascii_case_only) {
  EXPECT_TRUE(ascii_iequals("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("Upgrade", "Upgrad"));
  EXPECT_FALSE(ascii_iequals("a", "b"));
  EXPECT_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII, compared as is
  EXPECT_FALSE(ascii_iequals("@", "`"));                // 0x40 and 0x60 are not letters
}

TEST(http_fields, trim_removes_spaces_and_tabs_at_both_ends) {
  EXPECT_EQ(trim(" \t websocket \t"), "websocket");
  EXPECT_EQ(trim("a b"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim("\r\nx"), "\r\nx");  // only OWS is trimmed
}

TEST(http_fields, joined_reads_repeated_headers_as_one_list) {
  const std::vector<header_field> h{
      {"Connection", "keep-alive"}, {"Host", "x"}, {"connection", "Upgrade"}};
  EXPECT_EQ(joined(h, "CONNECTION"), std::optional<std::string>{"keep-alive, Upgrade"});
  EXPECT_EQ(joined(h, "Host"), std::optional<std::string>{"x"});
  EXPECT_EQ(joined(h, "Upgrade"), std::nullopt);
  const std::vector<header_field> empty_value{{"Upgrade", ""}};
  EXPECT_EQ(joined(empty_value, "Upgrade"), std::optional<std::string>{""});  // present, empty
}

TEST(http_fields, split_list_trims_and_drops_empty_elements) {
  EXPECT_EQ(split_list(" chat ,, superchat,", false),
            (std::vector<std::string>{"chat", "superchat"}));
  EXPECT_TRUE(split_list("", false).empty());
  EXPECT_TRUE(split_list(" , ,", false).empty());
}

TEST(http_fields, split_list_with_quotes_keeps_quoted_commas) {
  const std::string list = R"(foo; a="x,y", bar; b="q\",r", baz)";
  EXPECT_EQ(split_list(list, true),
            (std::vector<std::string>{R"(foo; a="x,y")", R"(bar; b="q\",r")", "baz"}));
  // Without quotes every comma splits.
  EXPECT_EQ(split_list(R"(a="x,y")", false), (std::vector<std::string>{R"(a="x)", R"(y")"}));
}

TEST(http_fields, has_token_matches_whole_elements_case_insensitively) {
  EXPECT_TRUE(has_token(std::string{"keep-alive, Upgrade"}, "upgrade"));
  EXPECT_FALSE(has_token(std::string{"upgrades"}, "upgrade"));
  EXPECT_FALSE(has_token(std::string{""}, "upgrade"));
  EXPECT_FALSE(has_token(std::nullopt, "upgrade"));
}

TEST(http_fields, printable_replaces_control_and_non_ascii_bytes_and_cuts_long_values) {
  EXPECT_EQ(printable("ok value"), "ok value");
  EXPECT_EQ(printable(std::string("a\r\n\x7f\xff", 5) + "b"), "a????b");
  EXPECT_EQ(printable(std::string("\0", 1)), "?");
  const std::string long_value(61, 'v');
  EXPECT_EQ(printable(long_value), std::string(60, 'v') + "...");
  EXPECT_EQ(printable(std::string(60, 'v')), std::string(60, 'v'));
  EXPECT_EQ(quoted("x\ny"), "\"x?y\"");
}

TEST(http_fields, one_line_and_append_header_cannot_start_a_new_header) {
  EXPECT_EQ(one_line(std::string("a\r\nSet-Cookie: x\0y", 18)), "a  Set-Cookie: x y");
  std::string out;
  append_header(out, "X-Name\r\n", "v\r\nInjected: 1");
  EXPECT_EQ(out, "X-Name  : v  Injected: 1\r\n");
}

TEST(http_fields, body_announced_names_the_header_that_announces_a_body) {
  using fields = std::vector<header_field>;
  EXPECT_EQ(body_announced(fields{{"Host", "h"}}), std::nullopt);
  EXPECT_EQ(body_announced(fields{{"content-length", "0"}}), std::nullopt);
  EXPECT_EQ(body_announced(fields{{"Content-Length", "5"}}), "Content-Length: 5");
  EXPECT_EQ(body_announced(fields{{"Content-Length", "0"}, {"Content-Length", "7"}}),
            "Content-Length: 0, 7");
  EXPECT_EQ(body_announced(fields{{"transfer-encoding", "chunked"}}), "Transfer-Encoding: chunked");
  EXPECT_EQ(body_announced(fields{{"Transfer-Encoding", "gzip\x01"}}), "Transfer-Encoding: gzip?");
}

TEST(http_fields, drop_body_keeps_the_head_and_its_content_length) {
  std::string r = build_http_response(200, {}, "hello\r\n\r\nmore");
  drop_body(r);
  EXPECT_EQ(r, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n");
}

}  // namespace
