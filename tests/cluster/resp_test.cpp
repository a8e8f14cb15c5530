// Tests for the RESP reader and formatter: every reply type as a transcript, the same replies
// from any cut of the bytes (a property over random reply trees), the limits (a string or an
// array announcing more than max_reply_bytes, a reply that grows past it while incomplete) with
// their specific errors, and commands formatted as arrays of bulk strings.
#include "resp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "wsx/cluster/errors.hpp"

namespace {

using wsx::cluster::errc;
using wsx::cluster::detail::format_command;
using wsx::cluster::detail::reply;
using wsx::cluster::detail::resp_reader;

std::vector<reply> read_all(std::string_view bytes, std::size_t limit, std::error_code& ec,
                            std::vector<std::size_t> cuts = {}) {
  resp_reader r(limit);
  std::vector<reply> out;
  std::size_t at = 0;
  cuts.push_back(bytes.size());
  for (std::size_t cut : cuts) {
    cut = std::min(std::max(cut, at), bytes.size());
    ec = r.receive(std::span<const char>(bytes.data() + at, cut - at),
                   [&](reply& x) { out.push_back(std::move(x)); });
    if (ec) return out;
    at = cut;
  }
  return out;
}

// A reply written back as RESP, and as text for comparisons.
std::string encode(const reply& r) {
  switch (r.type) {
    case reply::kind::string:
      return "$" + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
    case reply::kind::status:
      return "+" + r.str + "\r\n";
    case reply::kind::error:
      return "-" + r.str + "\r\n";
    case reply::kind::integer:
      return ":" + std::to_string(r.integer) + "\r\n";
    case reply::kind::nil:
      return "$-1\r\n";
    case reply::kind::array: {
      std::string out = "*" + std::to_string(r.elements.size()) + "\r\n";
      for (const reply& e : r.elements) out += encode(e);
      return out;
    }
  }
  return {};
}

TEST(resp, reads_every_reply_type) {
  std::error_code ec;
  const auto replies = read_all(
      "+OK\r\n-ERR no\r\n:42\r\n$5\r\nhe\r\no\r\n$-1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n*0\r\n",
      1024, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type, reply::kind::status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].type, reply::kind::error);
  EXPECT_EQ(replies[1].str, "ERR no");
  EXPECT_EQ(replies[2].integer, 42);
  EXPECT_EQ(replies[3].str, "he\r\no");
  EXPECT_EQ(replies[4].type, reply::kind::nil);
  ASSERT_TRUE(replies[5].is_array());
  EXPECT_EQ(replies[5].text(0), "message");
  EXPECT_EQ(replies[5].text(1), "c");
  EXPECT_TRUE(replies[5].elements[2].is_array());
  EXPECT_EQ(replies[5].text(2), "") << "not a string";
}

TEST(resp, a_string_longer_than_the_limit_is_refused) {
  std::error_code ec;
  read_all("$2000\r\n", 1024, ec);
  EXPECT_FALSE(ec) << "nothing is refused before the reply grows past the limit";
  read_all("$2000\r\n" + std::string(1100, 'x'), 1024, ec);
  EXPECT_EQ(ec, errc::reply_too_large);
}

TEST(resp, an_array_announcing_more_members_than_fit_is_refused_at_once) {
  std::error_code ec;
  read_all("*1000000000\r\n", 1024, ec);
  EXPECT_EQ(ec, errc::reply_too_large);
}

TEST(resp, many_small_replies_in_one_read_are_fine) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += ":" + std::to_string(i) + "\r\n";
  std::error_code ec;
  const auto replies = read_all(bytes, 64, ec);
  EXPECT_FALSE(ec);
  ASSERT_EQ(replies.size(), 1000u);
  EXPECT_EQ(replies[999].integer, 999);
}

TEST(resp, a_reply_exactly_at_the_limit_passes) {
  const std::string body(1024 - 9, 'y');
  const std::string bytes = "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
  ASSERT_EQ(bytes.size(), 1024u);
  std::error_code ec;
  EXPECT_EQ(read_all(bytes, 1024, ec).size(), 1u);
  EXPECT_FALSE(ec);
  read_all(bytes, 1000, ec);
  EXPECT_EQ(ec, errc::reply_too_large);
}

TEST(resp, bytes_that_are_not_resp_are_a_protocol_error_for_good) {
  resp_reader r(1024);
  auto ignore = [](reply&) {};
  EXPECT_EQ(r.receive(std::span<const char>("?what\r\n", 7), ignore), errc::protocol_error);
  EXPECT_EQ(r.receive(std::span<const char>("+OK\r\n", 5), ignore), errc::protocol_error);
}

TEST(resp, format_command_writes_an_array_of_bulk_strings) {
  std::string out;
  const std::array<std::string_view, 3> args{"PUBLISH", "ch", std::string_view("a\0b", 3)};
  format_command(out, args);
  EXPECT_EQ(out, std::string("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$3\r\na\0b\r\n", 34));
}

rc::Gen<reply> gen_reply(int depth) {
  using rc::gen::construct;
  auto leaf =
      rc::gen::oneOf(rc::gen::map(rc::gen::string<std::string>(),
                                  [](std::string s) {
                                    reply r;
                                    r.type = reply::kind::string;
                                    r.str = std::move(s);
                                    return r;
                                  }),
                     rc::gen::map(rc::gen::arbitrary<long long>(),
                                  [](long long v) {
                                    reply r;
                                    r.type = reply::kind::integer;
                                    r.integer = v;
                                    return r;
                                  }),
                     rc::gen::map(rc::gen::container<std::string>(rc::gen::inRange<char>('a', 'z')),
                                  [](std::string s) {
                                    reply r;
                                    r.type = reply::kind::status;
                                    r.str = std::move(s);
                                    return r;
                                  }),
                     rc::gen::just(reply{}));
  if (depth <= 0) return leaf;
  return rc::gen::oneOf(
      leaf,
      rc::gen::map(rc::gen::container<std::vector<reply>>(rc::gen::resize(4, gen_reply(depth - 1))),
                   [](std::vector<reply> v) {
                     reply r;
                     r.type = reply::kind::array;
                     r.elements = std::move(v);
                     return r;
                   }));
}

// Chunking invariance: random reply trees, written as RESP and fed in random cuts, come back as
// the same trees.
RC_GTEST_PROP(resp, any_cut_of_the_bytes_gives_the_same_replies, ()) {
  const auto replies = *rc::gen::container<std::vector<reply>>(gen_reply(3));
  std::string bytes;
  for (const reply& r : replies) bytes += encode(r);
  auto cuts = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, bytes.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  std::error_code ec;
  const auto got = read_all(bytes, 1 << 20, ec, cuts);
  RC_ASSERT(!ec);
  RC_ASSERT(got.size() == replies.size());
  for (std::size_t i = 0; i < got.size(); ++i) RC_ASSERT(encode(got[i]) == encode(replies[i]));
}

}  // namespace
