// Tests for detail::http_parser: transcripts (wire bytes → head, consumed count, what is left
// for the frame decoder), the head limit at its exact edge, and properties that any chunking of
// the same bytes (one feed, random cuts, one byte at a time) gives the same result.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "detail/handshake.hpp"
#include "support/test_support.hpp"

namespace {

using testing::HasSubstr;
using wsx::errc;
using wsx::header_field;
using wsx::detail::http_head;
using wsx::detail::http_parser;
using kind = http_parser::kind;
using status = http_parser::status;

// ---- helpers ----------------------------------------------------------------------------------

// What one parse produced: final status, head, total bytes consumed, and the unconsumed rest of
// the wire (the bytes a connection hands to its frame decoder).
struct outcome {
  status st = status::need_more;
  http_head head;
  std::size_t consumed = 0;
  std::string rest;
  errc error{};
  std::string detail;
};

// Feeds `wire` cut at the ascending offsets `cuts`; stops feeding once the parser is done.
outcome parse_cut(kind k, std::size_t limit, std::string_view wire, std::vector<std::size_t> cuts,
                  bool eof = false) {
  http_parser p{k, limit};
  outcome o;
  cuts.push_back(wire.size());
  std::size_t from = 0;
  for (const std::size_t to : cuts) {
    if (to < from) continue;
    const auto chunk = wire.substr(from, to - from);
    std::size_t n = 0;
    o.st = p.feed(wsx::as_bytes(chunk), n);
    o.consumed += n;
    from = to;
    if (o.st != status::need_more) {
      if (o.st == status::complete)
        o.rest = std::string(chunk.substr(n)) + std::string(wire.substr(to));
      break;
    }
  }
  if (o.st == status::need_more && eof) o.st = p.finish();
  o.head = p.head();
  o.error = p.error();
  o.detail = p.error_detail();
  return o;
}

outcome parse_whole(kind k, std::string_view wire, std::size_t limit = 16 * 1024) {
  return parse_cut(k, limit, wire, {});
}

outcome parse_bytewise(kind k, std::string_view wire, std::size_t limit = 16 * 1024) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i) cuts.push_back(i);
  return parse_cut(k, limit, wire, cuts);
}

// A readable one-string rendering of a head, so mismatches print well.
std::string render(const http_head& h) {
  std::string s = h.method + " " + h.target + " " + std::to_string(h.status) + " " +
                  h.reason_phrase + " HTTP/" + std::to_string(h.version_major) + "." +
                  std::to_string(h.version_minor) + "\n";
  for (const auto& f : h.headers) s += "[" + f.name + "]=[" + f.value + "]\n";
  return s + "body=[" + h.body + "]";
}

std::vector<header_field> fields(std::initializer_list<header_field> l) { return l; }

bool same_headers(const std::vector<header_field>& a, const std::vector<header_field>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.value == y.value;
  });
}

constexpr std::string_view frame = "\x81\x05hello";  // a text frame the client sent right after

// ---- requests ---------------------------------------------------------------------------------

TEST(http_parser, request_head_stops_before_frame_bytes) {
  const std::string head =
      "GET /chat?room=1 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "\r\n";
  for (const auto& o : {parse_whole(kind::request, head + std::string(frame)),
                        parse_bytewise(kind::request, head + std::string(frame))}) {
    ASSERT_EQ(o.st, status::complete);
    EXPECT_EQ(o.consumed, head.size());
    EXPECT_EQ(o.rest, frame);
    EXPECT_EQ(o.head.method, "GET");
    EXPECT_EQ(o.head.target, "/chat?room=1");
    EXPECT_EQ(o.head.version_major, 1);
    EXPECT_EQ(o.head.version_minor, 1);
    EXPECT_TRUE(same_headers(
        o.head.headers,
        fields({{"Host", "example.com"}, {"upgrade", "websocket"}, {"Connection", "Upgrade"}})))
        << render(o.head);
  }
}

TEST(http_parser, values_are_trimmed_and_may_be_empty) {
  //  wire                                      →  header
  //  "X-A:   padded  \t"                       →  X-A = "padded"
  //  "X-Empty:"                                →  X-Empty = ""
  //  "X-Inner: a  b"                           →  X-Inner = "a  b"
  const auto o = parse_bytewise(kind::request,
                                "GET / HTTP/1.1\r\nX-A:   padded  \t\r\nX-Empty:\r\n"
                                "X-Inner: a  b\r\n\r\n");
  ASSERT_EQ(o.st, status::complete);
  EXPECT_TRUE(same_headers(o.head.headers,
                           fields({{"X-A", "padded"}, {"X-Empty", ""}, {"X-Inner", "a  b"}})))
      << render(o.head);
}

TEST(http_parser, header_split_across_feeds_is_joined) {
  const std::string wire = "GET / HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  // cut inside the name, inside the value, and between CR and LF
  const auto o = parse_cut(kind::request, 1024, wire, {20, 24, 40, 59, 60});
  ASSERT_EQ(o.st, status::complete);
  EXPECT_TRUE(
      same_headers(o.head.headers, fields({{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}})));
  EXPECT_EQ(o.consumed, wire.size());
}

TEST(http_parser, feeding_after_complete_consumes_nothing) {
  http_parser p{kind::request, 1024};
  std::size_t n = 0;
  const std::string wire = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(p.feed(wsx::as_bytes(wire), n), status::complete);
  EXPECT_EQ(n, 27u);
  EXPECT_EQ(p.feed(wsx::as_bytes(wire), n), status::complete);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(p.finish(), status::complete);
  EXPECT_EQ(p.head().headers.size(), 1u);
}

TEST(http_parser, empty_feed_needs_more) {
  http_parser p{kind::request, 1024};
  std::size_t n = 7;
  EXPECT_EQ(p.feed({}, n), status::need_more);
  EXPECT_EQ(n, 0u);
}

TEST(http_parser, malformed_requests_are_bad_request_with_llhttp_reason) {
  struct row {
    std::string_view wire;
    std::string_view detail;
  };
  //  wire                                              →  detail (llhttp's reason)
  const row rows[] = {
      {"G@T / HTTP/1.1\r\n\r\n", "method"},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "header"},
      {"GET / HTTQ/1.1\r\n\r\n", "HTTP"},
      {"GET / HTTP/1.1\r\nHost: a\r\n\rX", "LF"},
  };
  for (const auto& r : rows) {
    for (const auto& o :
         {parse_whole(kind::request, r.wire), parse_bytewise(kind::request, r.wire)}) {
      EXPECT_EQ(o.st, status::error) << r.wire;
      EXPECT_EQ(o.error, errc::bad_request) << r.wire;
      EXPECT_THAT(o.detail, HasSubstr(r.detail)) << r.wire;
    }
  }
}

TEST(http_parser, error_is_sticky) {
  http_parser p{kind::request, 1024};
  std::size_t n = 0;
  ASSERT_EQ(p.feed(wsx::as_bytes("BAD\x01 / HTTP/1.1\r\n"), n), status::error);
  EXPECT_EQ(p.feed(wsx::as_bytes("GET / HTTP/1.1\r\n\r\n"), n), status::error);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(p.finish(), status::error);
  EXPECT_EQ(p.error(), errc::bad_request);
}

TEST(http_parser, eof_before_end_of_head_is_an_error) {
  const auto o = parse_cut(kind::request, 1024, "GET / HTTP/1.1\r\nHost: a\r\n", {}, true);
  EXPECT_EQ(o.st, status::error);
  EXPECT_EQ(o.error, errc::bad_request);
  EXPECT_THAT(o.detail, HasSubstr("closed before the end of the head"));
}

// ---- line endings ------------------------------------------------------------------------------

constexpr std::string_view bare_lf_detail =
    "bare LF line ending in the request head; every line must end with CRLF";

TEST(http_parser, bare_lf_anywhere_in_a_request_head_is_refused) {
  // RFC 9112 §2.2 allows taking a bare LF as a line end; wsx refuses it on every line.
  const std::string_view heads[] = {
      "GET / HTTP/1.1\nHost: a\r\n\r\n",          // request line
      "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",  // a header line
      "GET / HTTP/1.1\r\nHost: a\r\n\n",          // the empty line
      "GET / HTTP/1.1\nHost: a\n\n",              // all of them
  };
  for (const auto head : heads) {
    SCOPED_TRACE(std::string(head));
    for (const auto& o : {parse_whole(kind::request, head), parse_bytewise(kind::request, head)}) {
      EXPECT_EQ(o.st, status::error);
      EXPECT_EQ(o.error, errc::bad_request);
      EXPECT_EQ(o.detail, bare_lf_detail);
    }
  }
}

TEST(http_parser, a_byte_refused_just_before_a_bare_lf_is_the_refusal_under_any_cut) {
  // llhttp reports a tab or form feed in the request target one byte past it: the bare LF that
  // follows must not win when it happens to arrive in the same chunk.
  const std::string_view heads[] = {
      "GET /healthz?v*ec\x0c\nConnection: Upgrade\r\n\r\n",
      "GET /a\t\nHost: a\r\n\r\n",
  };
  for (const auto head : heads) {
    SCOPED_TRACE(std::string(head));
    const auto whole = parse_whole(kind::request, head);
    EXPECT_EQ(whole.st, status::error);
    EXPECT_EQ(whole.error, errc::bad_request);
    EXPECT_THAT(whole.detail, HasSubstr("Invalid characters in url"));
    for (std::size_t cut = 1; cut < head.size(); ++cut) {
      SCOPED_TRACE(cut);
      const auto o = parse_cut(kind::request, 16 * 1024, head, {cut});
      EXPECT_EQ(o.st, whole.st);
      EXPECT_EQ(o.error, whole.error);
      EXPECT_EQ(o.detail, whole.detail);
    }
  }
}

TEST(http_parser, lf_bytes_after_the_head_are_frames_not_line_ends) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (const auto& o :
       {parse_whole(kind::request, head + "\n\n"), parse_bytewise(kind::request, head + "\n\n")}) {
    EXPECT_EQ(o.st, status::complete);
    EXPECT_EQ(o.rest, "\n\n");
  }
}

// ---- the head limit ---------------------------------------------------------------------------

TEST(http_parser, head_exactly_at_limit_is_accepted) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";  // 27 bytes
  ASSERT_EQ(head.size(), 27u);
  // trailing frame bytes beyond the limit are not part of the head
  for (const auto& o : {parse_whole(kind::request, head + std::string(frame), 27),
                        parse_bytewise(kind::request, head + std::string(frame), 27)}) {
    EXPECT_EQ(o.st, status::complete);
    EXPECT_EQ(o.consumed, 27u);
    EXPECT_EQ(o.rest, frame);
  }
}

TEST(http_parser, head_one_byte_over_limit_is_too_large) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (const auto& o :
       {parse_whole(kind::request, head, 26), parse_bytewise(kind::request, head, 26)}) {
    EXPECT_EQ(o.st, status::error);
    EXPECT_EQ(o.error, errc::headers_too_large);
    EXPECT_THAT(o.detail, HasSubstr("26 bytes"));
  }
}

TEST(http_parser, endless_head_stops_at_limit) {
  const std::string wire = "GET / HTTP/1.1\r\nX-Junk: " + std::string(100000, 'a');
  const auto o = parse_whole(kind::request, wire, 4096);
  EXPECT_EQ(o.st, status::error);
  EXPECT_EQ(o.error, errc::headers_too_large);
  EXPECT_LE(o.head.headers.at(0).value.size(), 4096u);
}

TEST(http_parser, response_head_limit_applies_too) {
  const std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  EXPECT_EQ(parse_whole(kind::response, head, head.size()).st, status::complete);
  const auto o = parse_bytewise(kind::response, head, head.size() - 1);
  EXPECT_EQ(o.st, status::error);
  EXPECT_EQ(o.error, errc::headers_too_large);
}

// ---- responses --------------------------------------------------------------------------------

TEST(http_parser, response_101_stops_before_frame_bytes) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "\r\n";
  for (const auto& o : {parse_whole(kind::response, head + std::string(frame)),
                        parse_bytewise(kind::response, head + std::string(frame))}) {
    ASSERT_EQ(o.st, status::complete);
    EXPECT_EQ(o.consumed, head.size());
    EXPECT_EQ(o.rest, frame);
    EXPECT_EQ(o.head.status, 101);
    EXPECT_EQ(o.head.reason_phrase, "Switching Protocols");
    EXPECT_EQ(o.head.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }
}

TEST(http_parser, response_101_without_upgrade_headers_still_ends_at_head) {
  // llhttp only calls this an upgrade with Upgrade + Connection; we stop at the head anyway.
  const std::string head = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  const auto o = parse_whole(kind::response, head + std::string(frame));
  ASSERT_EQ(o.st, status::complete);
  EXPECT_EQ(o.consumed, head.size());
  EXPECT_EQ(o.rest, frame);
}

TEST(http_parser, refusal_with_content_length_reads_body) {
  //  wire: head + "nope\n" + "NEXT"   →  body "nope\n", "NEXT" left over
  const std::string msg =
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nnope\n";
  for (const auto& o :
       {parse_whole(kind::response, msg + "NEXT"), parse_bytewise(kind::response, msg + "NEXT")}) {
    ASSERT_EQ(o.st, status::complete);
    EXPECT_EQ(o.head.status, 403);
    EXPECT_EQ(o.head.body, "nope\n");
    EXPECT_EQ(o.consumed, msg.size());
    EXPECT_EQ(o.rest, "NEXT");
  }
}

TEST(http_parser, refusal_with_chunked_body) {
  const std::string msg =
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nbad \r\n7\r\nrequest\r\n0\r\n\r\n";
  const auto o = parse_bytewise(kind::response, msg + "X");
  ASSERT_EQ(o.st, status::complete);
  EXPECT_EQ(o.head.body, "bad request");
  EXPECT_EQ(o.consumed, msg.size());
}

TEST(http_parser, refusal_body_until_eof) {
  const std::string msg = "HTTP/1.0 500 Oops\r\n\r\nsomething broke";
  auto o = parse_cut(kind::response, 1024, msg, {10});
  EXPECT_EQ(o.st, status::need_more);
  EXPECT_EQ(o.consumed, msg.size());
  o = parse_cut(kind::response, 1024, msg, {10}, true);
  ASSERT_EQ(o.st, status::complete);
  EXPECT_EQ(o.head.status, 500);
  EXPECT_EQ(o.head.body, "something broke");
}

TEST(http_parser, refusal_body_kept_up_to_limit) {
  const std::string msg =
      "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
  const auto o = parse_whole(kind::response, msg, 64);
  ASSERT_EQ(o.st, status::complete);
  EXPECT_EQ(o.head.body, std::string(64, 'x'));
  EXPECT_EQ(o.consumed, msg.size());
}

TEST(http_parser, response_without_body_completes_at_head) {
  //  204 and 304 have no body; Content-Length: 0 neither
  for (const std::string head :
       {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n",
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"}) {
    for (const auto& o : {parse_whole(kind::response, head), parse_bytewise(kind::response, head),
                          parse_whole(kind::response, head + "ZZ")}) {
      EXPECT_EQ(o.st, status::complete) << head;
      EXPECT_EQ(o.consumed, head.size()) << head;
      EXPECT_EQ(o.head.body, "");
    }
  }
}

TEST(http_parser, eof_inside_content_length_body_is_bad_response) {
  const auto o = parse_cut(kind::response, 1024,
                           "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nabc", {}, true);
  EXPECT_EQ(o.st, status::error);
  EXPECT_EQ(o.error, errc::bad_response);
  EXPECT_THAT(o.detail, HasSubstr("EOF"));
}

TEST(http_parser, malformed_response_is_bad_response) {
  for (const std::string_view wire : {"HTTP/1.1 abc Nope\r\n\r\n", "HTTZ/1.1 101 X\r\n\r\n",
                                      "HTTP/1.1 101 OK\r\nA B: c\r\n\r\n"}) {
    const auto o = parse_bytewise(kind::response, wire);
    EXPECT_EQ(o.st, status::error) << wire;
    EXPECT_EQ(o.error, errc::bad_response) << wire;
    EXPECT_FALSE(o.detail.empty());
  }
}

TEST(http_parser, header_lookup_is_case_insensitive_first_match) {
  const auto o = parse_whole(kind::request, "GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
  EXPECT_EQ(o.head.header("X-A"), "1");
  EXPECT_EQ(o.head.header("x-A"), "1");
  EXPECT_EQ(o.head.header("X-B"), std::nullopt);
}

// ---- chunking invariance (properties) ---------------------------------------------------------

std::string random_case(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (*rc::gen::arbitrary<bool>()) {
      c = static_cast<char>((c >= 'a' && c <= 'z') ? c - 32 : (c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
  }
  return out;
}

std::string random_token(std::size_t min_len) {
  const auto chars = *rc::gen::container<std::string>(rc::gen::oneOf(
      rc::gen::inRange('a', static_cast<char>('z' + 1)),
      rc::gen::inRange('0', static_cast<char>('9' + 1)), rc::gen::element('-', '_')));
  return std::string(min_len, 'x') + chars;
}

// A header value: visible ASCII with inner spaces, no leading or trailing whitespace.
std::string random_value() {
  auto v = *rc::gen::container<std::string>(rc::gen::inRange(' ', static_cast<char>(0x7f)));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

// Random ascending cut points inside `size`.
std::vector<std::size_t> random_cuts(std::size_t size) {
  auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, size + 1));
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

void check_same(const outcome& a, const outcome& b) {
  RC_ASSERT(a.st == b.st);
  RC_ASSERT(render(a.head) == render(b.head));
  RC_ASSERT(a.consumed == b.consumed);
  RC_ASSERT(a.rest == b.rest);
}

std::string random_request(std::vector<header_field>& sent) {
  sent = {{random_case("Host"), "example.com:" + std::to_string(*rc::gen::inRange(1, 65536))},
          {random_case("Upgrade"), "websocket"},
          {random_case("Connection"), "Upgrade"},
          {random_case("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ=="},
          {random_case("Sec-WebSocket-Version"), "13"}};
  const auto extra = *rc::gen::inRange(0, 6);
  for (int i = 0; i < extra; ++i) sent.push_back({"X-" + random_token(1), random_value()});
  const auto order = *rc::gen::unique<std::vector<int>>(sent.size(), rc::gen::inRange<int>(0, 100));
  std::vector<std::size_t> idx(sent.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](auto x, auto y) { return order[x] < order[y]; });
  std::vector<header_field> shuffled;
  for (auto i : idx) shuffled.push_back(sent[i]);
  sent = shuffled;
  std::string wire = "GET /" + random_token(0) + " HTTP/1.1\r\n";
  for (const auto& h : sent) wire += h.name + ": " + h.value + "\r\n";
  return wire + "\r\n";
}

RC_GTEST_PROP(http_parser, request_chunking_is_invariant, ()) {
  std::vector<header_field> sent;
  const std::string head = random_request(sent);
  const std::string trailing = *rc::gen::arbitrary<std::string>();
  const std::string wire = head + trailing;

  const auto whole = parse_whole(kind::request, wire);
  RC_ASSERT(whole.st == status::complete);
  RC_ASSERT(whole.consumed == head.size());
  RC_ASSERT(whole.rest == trailing);
  RC_ASSERT(same_headers(whole.head.headers, sent));
  check_same(whole, parse_cut(kind::request, 16 * 1024, wire, random_cuts(wire.size())));
  check_same(whole, parse_bytewise(kind::request, wire));
}

RC_GTEST_PROP(http_parser, bare_lf_refusal_is_the_same_under_any_chunking, ()) {
  std::vector<header_field> sent;
  std::string head = random_request(sent);
  // Drop the CR of one line end of the head (request line, a header line or the empty line).
  std::vector<std::size_t> ends;
  for (std::size_t i = head.find("\r\n"); i != std::string::npos; i = head.find("\r\n", i + 2))
    ends.push_back(i);
  head.erase(*rc::gen::elementOf(ends), 1);
  const std::string wire = head + *rc::gen::arbitrary<std::string>();

  const auto whole = parse_whole(kind::request, wire);
  RC_ASSERT(whole.st == status::error);
  RC_ASSERT(whole.error == errc::bad_request);
  RC_ASSERT(whole.detail == bare_lf_detail);
  for (const auto& o : {parse_cut(kind::request, 16 * 1024, wire, random_cuts(wire.size())),
                        parse_bytewise(kind::request, wire)}) {
    RC_ASSERT(o.st == whole.st);
    RC_ASSERT(o.error == whole.error);
    RC_ASSERT(o.detail == whole.detail);
  }
}

RC_GTEST_PROP(http_parser, request_limit_is_exact_under_any_chunking, ()) {
  std::vector<header_field> sent;
  const std::string head = random_request(sent);
  const std::string wire = head + *rc::gen::arbitrary<std::string>();
  const auto cuts = random_cuts(wire.size());
  RC_ASSERT(parse_cut(kind::request, head.size(), wire, cuts).st == status::complete);
  const auto over = parse_cut(kind::request, head.size() - 1, wire, cuts);
  RC_ASSERT(over.st == status::error);
  RC_ASSERT(over.error == errc::headers_too_large);
}

RC_GTEST_PROP(http_parser, response_101_chunking_is_invariant, ()) {
  std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
  const auto extra = *rc::gen::inRange(0, 6);
  for (int i = 0; i < extra; ++i) head += "X-" + random_token(1) + ": " + random_value() + "\r\n";
  head +=
      random_case("Upgrade") + ": websocket\r\n" + random_case("Connection") + ": upgrade\r\n\r\n";
  const std::string trailing = *rc::gen::arbitrary<std::string>();
  const std::string wire = head + trailing;

  const auto whole = parse_whole(kind::response, wire);
  RC_ASSERT(whole.st == status::complete);
  RC_ASSERT(whole.consumed == head.size());
  RC_ASSERT(whole.rest == trailing);
  check_same(whole, parse_cut(kind::response, 16 * 1024, wire, random_cuts(wire.size())));
  check_same(whole, parse_bytewise(kind::response, wire));
}

RC_GTEST_PROP(http_parser, refusal_with_body_chunking_is_invariant, ()) {
  const int code = *rc::gen::inRange(400, 600);
  const std::string body = *rc::gen::arbitrary<std::string>();
  const std::string msg = "HTTP/1.1 " + std::to_string(code) + " " + random_token(1) +
                          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string trailing = *rc::gen::arbitrary<std::string>();
  const std::string wire = msg + trailing;

  const auto whole = parse_whole(kind::response, wire);
  RC_ASSERT(whole.st == status::complete);
  RC_ASSERT(whole.head.status == code);
  RC_ASSERT(whole.head.body == body);
  RC_ASSERT(whole.consumed == msg.size());
  RC_ASSERT(whole.rest == trailing);
  check_same(whole, parse_cut(kind::response, 16 * 1024, wire, random_cuts(wire.size())));
  check_same(whole, parse_bytewise(kind::response, wire));
}

RC_GTEST_PROP(http_parser, damaged_input_gives_the_same_verdict_under_any_chunking, ()) {
  // A valid request or response with a few bytes overwritten or inserted: whatever the verdict
  // and its reason, they must not depend on how the bytes were cut.
  const bool is_request = *rc::gen::arbitrary<bool>();
  std::vector<header_field> sent;
  std::string wire = is_request
                         ? random_request(sent)
                         : "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc";
  const auto edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, wire.size());
    const char c = *rc::gen::oneOf(rc::gen::element(' ', ':', '\r', '\n', '\0', '\t', '\f', '"'),
                                   rc::gen::arbitrary<char>());
    if (*rc::gen::arbitrary<bool>()) {
      wire[at] = c;
    } else {
      wire.insert(wire.begin() + static_cast<std::ptrdiff_t>(at), c);
    }
  }
  const auto k = is_request ? kind::request : kind::response;
  const auto whole = parse_cut(k, 16 * 1024, wire, {}, true);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  for (const auto& other : {parse_cut(k, 16 * 1024, wire, random_cuts(wire.size()), true),
                            parse_cut(k, 16 * 1024, wire, random_cuts(wire.size()), true),
                            parse_cut(k, 16 * 1024, wire, every, true)}) {
    RC_ASSERT(whole.st == other.st);
    RC_ASSERT(whole.error == other.error);
    RC_ASSERT(whole.detail == other.detail);
    if (whole.st == status::complete) {
      RC_ASSERT(render(whole.head) == render(other.head));
      RC_ASSERT(whole.consumed == other.consumed);
      RC_ASSERT(whole.rest == other.rest);
    }
  }
}

}  // namespace
