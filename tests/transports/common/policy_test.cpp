// Tests for wsx policies: origin allow list (normalization, default ports, wildcard, "null",
// missing Origin with and without require_origin, refused configuration entries, hostile header
// values as a property) and subprotocol selection in server preference order.
#include "wsx/common/policy.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace {

using wsx::origin_allow_list;
using wsx::select_subprotocol;

origin_allow_list list_of(std::initializer_list<const char*> origins) {
  origin_allow_list l;
  for (const char* o : origins) EXPECT_TRUE(l.add(o)) << o;
  return l;
}

TEST(policy, backpressure_defaults) {
  const wsx::backpressure_policy p;
  EXPECT_EQ(p.action, wsx::backpressure::drop_message);
  EXPECT_EQ(p.low_water_mark, 64u * 1024u);
}

TEST(policy, exact_origins_match_case_insensitively) {
  const auto l = list_of({"https://example.com", "http://localhost:8080"});
  EXPECT_TRUE(l.allows("https://example.com"));
  EXPECT_TRUE(l.allows("HTTPS://Example.COM"));
  EXPECT_TRUE(l.allows("http://localhost:8080"));
  EXPECT_FALSE(l.allows("http://example.com"));             // other scheme
  EXPECT_FALSE(l.allows("https://example.com.evil.test"));  // suffix attack
  EXPECT_FALSE(l.allows("https://evil-example.com"));
  EXPECT_FALSE(l.allows("https://sub.example.com"));
  EXPECT_FALSE(l.allows("http://localhost:8081"));
  EXPECT_FALSE(l.allows("http://localhost"));
  EXPECT_FALSE(l.allows("https://example.com/"));  // browsers never send a path
  EXPECT_FALSE(l.allows(""));
  EXPECT_FALSE(l.allows("null"));
}

TEST(policy, default_ports_equal_no_port) {
  const auto l = list_of({"https://example.com:443", "http://a.test", "wss://b.test:0443"});
  EXPECT_TRUE(l.allows("https://example.com"));
  EXPECT_TRUE(l.allows("https://example.com:443"));
  EXPECT_TRUE(l.allows("http://a.test:80"));
  EXPECT_TRUE(l.allows("wss://b.test"));
  EXPECT_FALSE(l.allows("https://example.com:8443"));
  EXPECT_FALSE(l.allows("http://a.test:443"));
}

TEST(policy, ipv6_literal_origins) {
  const auto l = list_of({"http://[::1]:3000"});
  EXPECT_TRUE(l.allows("http://[::1]:3000"));
  EXPECT_FALSE(l.allows("http://[::2]:3000"));
  EXPECT_FALSE(l.allows("http://[::1"));
}

TEST(policy, missing_origin_allowed_unless_required) {
  auto l = list_of({"https://example.com"});
  EXPECT_FALSE(l.requires_origin());
  EXPECT_TRUE(l.allows(std::nullopt));
  l.set_require_origin(true);
  EXPECT_TRUE(l.requires_origin());
  EXPECT_FALSE(l.allows(std::nullopt));
  EXPECT_TRUE(l.allows("https://example.com"));
}

TEST(policy, empty_list_allows_only_requests_without_origin) {
  const origin_allow_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.allows(std::nullopt));
  EXPECT_FALSE(l.allows("https://example.com"));
}

TEST(policy, wildcard_allows_every_present_origin) {
  auto l = list_of({"*"});
  EXPECT_FALSE(l.empty());
  EXPECT_TRUE(l.allows("https://anything.test"));
  EXPECT_TRUE(l.allows("null"));
  EXPECT_TRUE(l.allows("garbage"));
  l.set_require_origin(true);
  EXPECT_FALSE(l.allows(std::nullopt));
}

TEST(policy, null_origin_only_when_listed) {
  const auto l = list_of({"null"});
  EXPECT_TRUE(l.allows("null"));
  EXPECT_FALSE(l.allows("NULL"));
  EXPECT_FALSE(l.allows("https://example.com"));
}

TEST(policy, malformed_configuration_is_refused) {
  origin_allow_list l;
  for (const char* bad : {"",
                          "example.com",
                          "https://",
                          "https:///",
                          "https://example.com/",
                          "https://example.com/path",
                          "https://example.com?q",
                          "https://u@example.com",
                          "https://example.com:",
                          "https://example.com:65536",
                          "https://example.com:8x",
                          "https://example.com:1234567",
                          "1https://x",
                          "ht tp://x",
                          "://x",
                          "https://exa mple.com",
                          "https://[]",
                          "https://[::1",
                          "https://[::1]x",
                          "**"}) {
    EXPECT_FALSE(l.add(bad)) << bad;
  }
  EXPECT_TRUE(l.empty());
}

// Whatever bytes arrive in an Origin header, allows() answers without crashing, and only the
// listed origin (in some letter case, with or without its default port) is allowed.
RC_GTEST_PROP(policy, hostile_origins_are_refused, (const std::string& origin)) {
  const auto l = list_of({"https://example.com"});
  std::string lowered;
  for (char c : origin) lowered += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const bool expected = lowered == "https://example.com" || lowered == "https://example.com:443";
  RC_ASSERT(l.allows(origin) == expected);
}

TEST(policy, subprotocol_follows_server_preference) {
  EXPECT_EQ(select_subprotocol({"v1.chat", "v2.chat"}, {"v2.chat", "v1.chat"}), "v2.chat");
  EXPECT_EQ(select_subprotocol({"v2.chat", "v1.chat"}, {"v1.chat", "v2.chat"}), "v1.chat");
  EXPECT_EQ(select_subprotocol({"mqtt", "v1.chat"}, {"v1.chat"}), "v1.chat");
}

TEST(policy, subprotocol_none_in_common) {
  EXPECT_EQ(select_subprotocol({"a"}, {"b"}), std::nullopt);
  EXPECT_EQ(select_subprotocol({}, {"b"}), std::nullopt);
  EXPECT_EQ(select_subprotocol({"a"}, {}), std::nullopt);
  EXPECT_EQ(select_subprotocol({"V1.chat"}, {"v1.chat"}), std::nullopt);  // exact comparison
}

}  // namespace
