// Tests for the opening handshake (RFC 6455 §4): the accept key, the server's checks of a request
// (each refusal with its errc, status, headers and a distinctive piece of the reason), the bytes
// both sides write, the client's checks of the server's answer, and opening_handshake, which
// drives one connection's handshake and returns its outcome. Requests are parsed from wire text
// with http_parser, so each test reads as a transcript.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "detail/handshake.hpp"
#include "support/test_support.hpp"

namespace {

using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;
using wsx::errc;
using wsx::header_field;
using namespace wsx::detail;

constexpr std::string_view rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";         // RFC 6455 §1.3
constexpr std::string_view rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455 §1.3

http_head parse(http_parser::kind k, std::string_view wire) {
  http_parser p{k, 16 * 1024};
  std::size_t n = 0;
  auto st = p.feed(wsx::as_bytes(wire), n);
  if (st == http_parser::status::need_more) st = p.finish();
  EXPECT_EQ(st, http_parser::status::complete) << wire << "\n" << p.error_detail();
  return p.head();
}

http_head request(std::string_view wire) { return parse(http_parser::kind::request, wire); }
http_head response(std::string_view wire) { return parse(http_parser::kind::response, wire); }

// A response read the way a client reads a server that keeps talking: complete from its own
// bytes (no EOF needed to find its end) and ending exactly at the last of them.
http_head strict_response(std::string_view wire) {
  http_parser p{http_parser::kind::response, 16 * 1024};
  const std::string more = std::string(wire) + "HTTP/1.1 200 OK\r\n";  // a second message after
  std::size_t n = 0;
  EXPECT_EQ(p.feed(wsx::as_bytes(more), n), http_parser::status::complete) << wire << "\n"
                                                                           << p.error_detail();
  EXPECT_EQ(n, wire.size()) << wire;
  return p.head();
}

// The RFC 6455 §1.2 sample request, with `headers` replacing the default header lines.
std::string sample_request(std::string_view headers =
                               "Host: server.example.com\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n") {
  return "GET /chat HTTP/1.1\r\n" + std::string(headers) + "\r\n";
}

// ---- accept key -------------------------------------------------------------------------------

TEST(handshake, accept_key_matches_rfc_example) { EXPECT_EQ(accept_key(rfc_key), rfc_accept); }

// ---- server: accepted requests ----------------------------------------------------------------

TEST(handshake, rfc_sample_request_is_accepted) {
  const auto head = request(
      "GET /chat?room=7&x HTTP/1.1\r\n"
      "Host: server.example.com\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Origin: http://example.com\r\n"
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  wsx::upgrade_request req;
  std::string key;
  ASSERT_EQ(check_upgrade_request(head, req, key), std::nullopt);
  EXPECT_EQ(key, rfc_key);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/chat?room=7&x");
  EXPECT_EQ(req.path, "/chat");
  EXPECT_EQ(req.query, "room=7&x");
  EXPECT_EQ(req.headers.size(), 7u);
  EXPECT_EQ(req.subprotocols, (std::vector<std::string>{"chat", "superchat"}));
  EXPECT_TRUE(req.extensions.empty());
  EXPECT_EQ(req.header("origin"), "http://example.com");
  EXPECT_EQ(req.header("ORIGIN"), "http://example.com");
  EXPECT_EQ(req.header("Cookie"), std::nullopt);
}

TEST(handshake, tokens_are_case_insensitive_lists_across_repeated_headers) {
  //  header lines                                          →  accepted
  const auto head =
      request(sample_request("Host: h\r\n"
                             "Upgrade: h2c\r\n"
                             "upgrade: WebSocket\r\n"  // second Upgrade header carries the token
                             "Connection: keep-alive,\t UPGRADE\r\n"  // list with OWS, other case
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Protocol: a ,b\r\n"
                             "Sec-WebSocket-Protocol: ,c\r\n"));
  wsx::upgrade_request req;
  std::string key;
  ASSERT_EQ(check_upgrade_request(head, req, key), std::nullopt);
  EXPECT_EQ(req.subprotocols, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(req.query, "");
}

TEST(handshake, extension_offers_split_on_commas_outside_quotes) {
  //  Sec-WebSocket-Extensions lines                               →  offers
  //  permessage-deflate; client_max_window_bits, x-foo; a="1,2"   →  2 offers
  //  x-bar; q="say \"hi, you\""                                   →  1 offer (escaped quote)
  const auto head = request(sample_request(
      "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo; a=\"1,2\"\r\n"
      "Sec-WebSocket-Extensions: x-bar; q=\"say \\\"hi, you\\\"\"\r\n"));
  wsx::upgrade_request req;
  std::string key;
  ASSERT_EQ(check_upgrade_request(head, req, key), std::nullopt);
  EXPECT_EQ(req.extensions,
            (std::vector<std::string>{"permessage-deflate; client_max_window_bits",
                                      "x-foo; a=\"1,2\"", "x-bar; q=\"say \\\"hi, you\\\"\""}));
}

// ---- server: refused requests -----------------------------------------------------------------

struct refusal {
  std::string_view name;
  std::string wire;
  errc ec;
  int status;
  std::string_view reason;  // a distinctive part of the one-line reason
  header_field header;      // a header the refusal must carry ({} = none)
};

const std::string key_line = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const std::string proxy = "proxy_set_header Upgrade $http_upgrade";

//  request                                    →  errc, status, reason, header
const refusal refusals[] = {
    {"post",
     "POST /chat HTTP/1.1\r\nHost: h\r\n\r\n",
     errc::not_get,
     405,
     "method POST not allowed for /chat; it allows only GET",
     {"Allow", "GET"}},
    {"head",
     "HEAD /healthz HTTP/1.0\r\n\r\n",
     errc::not_get,
     405,
     "method HEAD not allowed for /healthz; it allows only GET",
     {"Allow", "GET"}},
    {"post_upgrade",
     "POST /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
     errc::not_get,
     405,
     "method POST not allowed; a WebSocket upgrade must be GET",
     {"Allow", "GET"}},
    {"post_checked_before_host", "PUT / HTTP/1.1\r\n\r\n", errc::not_get, 405, "method PUT", {}},
    {"http_1_0",
     "GET /chat HTTP/1.0\r\nHost: h\r\n\r\n",
     errc::bad_http_version,
     400,
     "HTTP/1.0 not supported; a WebSocket upgrade needs HTTP/1.1 (nginx: proxy_http_version 1.1)",
     {}},
    {"no_host",
     "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
     errc::missing_host,
     400,
     "Host header missing",
     {}},
    {"empty_host",
     "GET /chat HTTP/1.1\r\nHost: \r\n\r\n",
     errc::missing_host,
     400,
     "Host header missing",
     {}},
    {"content_length",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line +
                    "Sec-WebSocket-Version: 13\r\nContent-Length: 5\r\n") +
         "hello",
     errc::upgrade_with_body,
     400,
     "an upgrade request must not have a body (Content-Length: 5)",
     {}},
    {"chunked",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line +
                    "Sec-WebSocket-Version: 13\r\nTransfer-Encoding: chunked\r\n") +
         "5\r\nhello\r\n0\r\n\r\n",
     errc::upgrade_with_body,
     400,
     "an upgrade request must not have a body (Transfer-Encoding: chunked)",
     {}},
    {"body_checked_before_upgrade",
     sample_request("Host: h\r\nTransfer-Encoding: gzip\r\n"),
     errc::upgrade_with_body,
     400,
     "an upgrade request must not have a body (Transfer-Encoding: gzip)",
     {}},
    {"no_upgrade",
     sample_request("Host: h\r\nConnection: Upgrade\r\n"),
     errc::missing_upgrade,
     426,
     "Upgrade: websocket header missing; if a reverse proxy sits in front",
     {"Upgrade", "websocket"}},
    {"no_upgrade_hint", sample_request("Host: h\r\n"), errc::missing_upgrade, 426, proxy, {}},
    {"wrong_upgrade",
     sample_request("Host: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"),
     errc::missing_upgrade,
     426,
     "Upgrade: websocket header missing (got \"h2c\")",
     {"Upgrade", "websocket"}},
    {"upgrade_with_version_suffix",
     sample_request("Host: h\r\nUpgrade: websocket/13\r\n"),
     errc::missing_upgrade,
     426,
     "(got \"websocket/13\")",
     {}},
    {"no_connection",
     sample_request("Host: h\r\nUpgrade: websocket\r\n"),
     errc::missing_connection_upgrade,
     426,
     "Connection: upgrade header missing; if a reverse proxy sits in front",
     {"Upgrade", "websocket"}},
    {"connection_keep_alive",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"),
     errc::missing_connection_upgrade,
     426,
     "Connection: upgrade header missing (got \"keep-alive\"); if a reverse proxy",
     {}},
    {"connection_upgrade_substring",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: upgrades\r\n"),
     errc::missing_connection_upgrade,
     426,
     "Connection: upgrade header missing",
     {}},
    {"no_version",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line),
     errc::bad_version,
     426,
     "Sec-WebSocket-Version header missing; it must be 13",
     {"Sec-WebSocket-Version", "13"}},
    {"version_8",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line +
                    "Sec-WebSocket-Version: 8\r\n"),
     errc::bad_version,
     426,
     "Sec-WebSocket-Version must be 13 (got \"8\")",
     {"Sec-WebSocket-Version", "13"}},
    {"two_versions",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line +
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 8\r\n"),
     errc::bad_version,
     426,
     "(got \"13, 8\")",
     {}},
    {"no_key",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\n"),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key header missing",
     {}},
    {"short_key",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n"),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key must be base64 of 16 bytes (got \"AAAAAAAAAAAAAAAAAAAA\")",
     {}},
    {"key_of_17_bytes",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n"),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key must be base64 of 16 bytes",
     {}},
    {"key_not_base64",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n"),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key must be base64 of 16 bytes",
     {}},
    {"key_non_canonical",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key must be base64 of 16 bytes",
     {}},
    {"two_keys",
     sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\n" +
                    key_line + key_line),
     errc::bad_key,
     400,
     "Sec-WebSocket-Key must be base64 of 16 bytes",
     {}},
};

TEST(handshake, refusals_name_the_header_and_the_fix) {
  for (const auto& r : refusals) {
    SCOPED_TRACE(std::string(r.name));
    wsx::upgrade_request req;
    std::string key;
    const auto f = check_upgrade_request(request(r.wire), req, key);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->ec, r.ec);
    EXPECT_EQ(f->status, r.status);
    EXPECT_THAT(f->reason, HasSubstr(r.reason));
    EXPECT_THAT(f->reason, Not(HasSubstr("\n")));
    if (!r.header.name.empty()) {
      ASSERT_EQ(f->headers.size(), 1u);
      EXPECT_EQ(f->headers[0].name, r.header.name);
      EXPECT_EQ(f->headers[0].value, r.header.value);
    }
    EXPECT_TRUE(key.empty());
  }
}

TEST(handshake, peer_values_in_reasons_are_short_and_printable) {
  const auto head =
      request(sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key_line +
                             "Sec-WebSocket-Version: \xff" + std::string(200, '9') + "\r\n"));
  wsx::upgrade_request req;
  std::string key;
  const auto f = check_upgrade_request(head, req, key);
  ASSERT_TRUE(f.has_value());
  EXPECT_THAT(f->reason, HasSubstr("(got \"?999"));
  EXPECT_THAT(f->reason, HasSubstr("...\")"));
  EXPECT_LT(f->reason.size(), 120u);
}

TEST(handshake, parse_failures_map_to_431_and_400) {
  //  parser error                      →  status, reason
  const auto big = parse_failure(errc::headers_too_large, "head exceeds 16384 bytes");
  EXPECT_EQ(big.ec, errc::headers_too_large);
  EXPECT_EQ(big.status, 431);
  EXPECT_THAT(big.reason, HasSubstr("request head exceeds 16384 bytes"));
  EXPECT_THAT(big.reason, HasSubstr("max_header_bytes"));
  const auto bad = parse_failure(errc::bad_request, "Invalid header token");
  EXPECT_EQ(bad.ec, errc::bad_request);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.reason, HasSubstr("Invalid header token"));
}

// ---- server: the bytes it writes --------------------------------------------------------------

TEST(handshake, accept_response_is_rfc_example) {
  EXPECT_EQ(build_accept_response(rfc_key, {}),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

TEST(handshake, accept_response_with_subprotocol_and_extra_headers) {
  wsx::accept_options opts{"chat", {{"Set-Cookie", "id=1"}, {"X-Evil", "a\r\nInjected: 1"}}};
  EXPECT_EQ(build_accept_response(rfc_key, opts),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "Set-Cookie: id=1\r\n"
            "X-Evil: a  Injected: 1\r\n"
            "\r\n");
}

TEST(handshake, reject_response_layout) {
  const header_field extra[] = {{"Upgrade", "websocket"}};
  EXPECT_EQ(build_reject_response(426, "Upgrade: websocket header missing", extra),
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 34\r\n"
            "Connection: close\r\n"
            "Upgrade: websocket\r\n"
            "\r\n"
            "Upgrade: websocket header missing\n");
}

TEST(handshake, reject_reason_cannot_inject_headers) {
  const auto out = build_reject_response(403, "no\r\nSet-Cookie: x=1\r\n\r\nfake", {});
  EXPECT_EQ(out,
            "HTTP/1.1 403 Forbidden\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 28\r\n"
            "Connection: close\r\n"
            "\r\n"
            "no  Set-Cookie: x=1    fake\n");
  // and the client side reads it back as one body
  const auto head = response(out);
  EXPECT_EQ(head.header("Set-Cookie"), std::nullopt);
  EXPECT_EQ(head.body, "no  Set-Cookie: x=1    fake\n");
}

TEST(handshake, status_phrases) {
  //  status → phrase
  EXPECT_EQ(status_phrase(101), "Switching Protocols");
  EXPECT_EQ(status_phrase(204), "No Content");
  EXPECT_EQ(status_phrase(304), "Not Modified");
  EXPECT_EQ(status_phrase(400), "Bad Request");
  EXPECT_EQ(status_phrase(403), "Forbidden");
  EXPECT_EQ(status_phrase(405), "Method Not Allowed");
  EXPECT_EQ(status_phrase(426), "Upgrade Required");
  EXPECT_EQ(status_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(status_phrase(503), "Service Unavailable");
  EXPECT_EQ(status_phrase(499), "Client Error");
  EXPECT_EQ(status_phrase(599), "Server Error");
}

// ---- application answers (accept, reject, respond) ------------------------------------------

TEST(handshake, plain_204_has_no_content_length_and_no_body) {
  // RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204.
  const header_field extra[] = {{"Cache-Control", "no-store"}};
  const auto out = build_http_response(204, extra, "");
  EXPECT_EQ(out,
            "HTTP/1.1 204 No Content\r\n"
            "Connection: close\r\n"
            "Cache-Control: no-store\r\n"
            "\r\n");
  const auto head = strict_response(out);
  EXPECT_EQ(head.status, 204);
  EXPECT_EQ(head.header("Content-Length"), std::nullopt);
  EXPECT_EQ(head.body, "");
}

TEST(handshake, plain_304_has_no_content_length_and_no_body) {
  // A 304's Content-Length would have to be the representation's; the core writes none.
  const header_field extra[] = {{"ETag", "\"v1\""}};
  const auto out = build_http_response(304, extra, "");
  EXPECT_EQ(out,
            "HTTP/1.1 304 Not Modified\r\n"
            "Connection: close\r\n"
            "ETag: \"v1\"\r\n"
            "\r\n");
  const auto head = strict_response(out);
  EXPECT_EQ(head.status, 304);
  EXPECT_EQ(head.header("Content-Length"), std::nullopt);
  EXPECT_EQ(head.body, "");
}

TEST(handshake, plain_200_is_read_back_whole) {
  const header_field extra[] = {{"Content-Type", "text/plain"}, {"X-Tab", "a\tb"}};
  const auto out = build_http_response(200, extra, "ok\n");
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 3\r\n"
            "Connection: close\r\n"
            "Content-Type: text/plain\r\n"
            "X-Tab: a\tb\r\n"
            "\r\n"
            "ok\n");
  const auto head = strict_response(out);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("X-Tab"), "a\tb");
  EXPECT_EQ(head.body, "ok\n");
}

TEST(handshake, respond_takes_final_statuses_and_no_body_with_204_or_304) {
  //  status, body       →  valid?
  EXPECT_TRUE(valid_respond(200, "ok"));
  EXPECT_TRUE(valid_respond(599, ""));
  EXPECT_TRUE(valid_respond(204, ""));
  EXPECT_TRUE(valid_respond(304, ""));
  EXPECT_FALSE(valid_respond(204, "x"));  // RFC 9110 §15.3.5
  EXPECT_FALSE(valid_respond(304, "x"));  // RFC 9110 §15.4.5
  EXPECT_FALSE(valid_respond(100, ""));   // RFC 9110 §15.2: interim
  EXPECT_FALSE(valid_respond(101, ""));
  EXPECT_FALSE(valid_respond(103, ""));
  EXPECT_FALSE(valid_respond(199, ""));
  EXPECT_FALSE(valid_respond(99, ""));
  EXPECT_FALSE(valid_respond(600, ""));
}

TEST(handshake, answer_headers_may_not_restate_what_the_core_writes) {
  const auto ok = [](answer_kind k, std::string_view name) {
    const header_field h{std::string(name), "v"};
    return valid_answer_headers(k, {&h, 1});
  };
  constexpr answer_kind all[] = {answer_kind::upgrade, answer_kind::refusal, answer_kind::plain};
  for (const auto k : all) {
    //  name                          →  valid?
    EXPECT_FALSE(ok(k, "Content-Length"));
    EXPECT_FALSE(ok(k, "content-length"));
    EXPECT_FALSE(ok(k, "Transfer-Encoding"));
    EXPECT_FALSE(ok(k, "TRANSFER-ENCODING"));
    EXPECT_FALSE(ok(k, "Connection"));
    EXPECT_FALSE(ok(k, "connection"));
    EXPECT_TRUE(ok(k, "Cache-Control"));
    EXPECT_TRUE(ok(k, "Content-Language"));  // only exact names are the core's
  }
  // The 101's own headers (RFC 6455 §4.2.2 item 5).
  EXPECT_FALSE(ok(answer_kind::upgrade, "Upgrade"));
  EXPECT_FALSE(ok(answer_kind::upgrade, "sec-websocket-accept"));
  EXPECT_FALSE(ok(answer_kind::upgrade, "Sec-WebSocket-Protocol"));
  EXPECT_TRUE(ok(answer_kind::upgrade, "Set-Cookie"));
  EXPECT_TRUE(ok(answer_kind::upgrade, "Content-Type"));
  // A refusal writes its own text/plain Content-Type; a plain answer leaves it to the caller.
  EXPECT_FALSE(ok(answer_kind::refusal, "Content-Type"));
  EXPECT_TRUE(ok(answer_kind::refusal, "Upgrade"));  // e.g. a 426 naming the protocol
  EXPECT_TRUE(ok(answer_kind::plain, "Content-Type"));
  EXPECT_TRUE(ok(answer_kind::plain, "Upgrade"));
  // The client's request states these itself (RFC 6455 §4.1).
  for (const char* name :
       {"Host", "Upgrade", "Origin", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol", "sec-websocket-extensions", "Connection"})
    EXPECT_FALSE(ok(answer_kind::request, name)) << name;
  EXPECT_TRUE(ok(answer_kind::request, "Authorization"));
  EXPECT_TRUE(ok(answer_kind::request, "Cookie"));
  // Names and values as valid_header_name / valid_header_value have them.
  const header_field bad_name{"X Bad", "v"};
  const header_field bad_value{"X-Bad", "a\x01b"};
  EXPECT_FALSE(valid_answer_headers(answer_kind::plain, {&bad_name, 1}));
  EXPECT_FALSE(valid_answer_headers(answer_kind::plain, {&bad_value, 1}));
  EXPECT_TRUE(valid_answer_headers(answer_kind::plain, {}));
}

RC_GTEST_PROP(handshake, every_plain_answer_that_passes_the_checks_reads_back_whole, ()) {
  // Whatever respond() lets through is one complete HTTP/1.1 message of that status and body.
  const int status = *rc::gen::oneOf(rc::gen::element(200, 204, 304), rc::gen::inRange(200, 600));
  const auto names = *rc::gen::container<std::vector<std::string>>(
      rc::gen::element<std::string>("Content-Type", "ETag", "Cache-Control", "X-A"));
  // VCHAR, SP, HTAB and obs-text, the bytes valid_header_value() lets through.
  const auto value = *rc::gen::container<std::string>(
      rc::gen::oneOf(rc::gen::inRange('!', '\x7f'), rc::gen::element(' ', '\t', '\x80', '\xff')));
  std::vector<header_field> headers;
  for (const auto& n : names) headers.push_back({n, "v" + value + "v"});
  const bool no_content = status == 204 || status == 304;
  const auto body = no_content ? std::string{} : *rc::gen::arbitrary<std::string>();
  RC_ASSERT(valid_respond(status, body));
  RC_ASSERT(valid_answer_headers(answer_kind::plain, headers));
  const auto head = strict_response(build_http_response(status, headers, body));
  RC_ASSERT(head.status == status);
  RC_ASSERT(head.body == body);
  RC_ASSERT(head.headers.size() == headers.size() + (no_content ? 1 : 2));
  RC_ASSERT(!no_content || !head.header("Content-Length"));
}

// ---- client -----------------------------------------------------------------------------------

TEST(handshake, client_key_is_base64_of_16_fresh_bytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 32; ++i) {
    const auto key = make_client_key();
    ASSERT_EQ(key.size(), 24u);
    EXPECT_EQ(key.substr(22), "==");
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 32u);
}

TEST(handshake, header_name_and_value_validity) {
  //  name                 →  valid?
  EXPECT_TRUE(valid_header_name("X-Custom_1.a!#$%&'*+^`|~"));
  EXPECT_FALSE(valid_header_name(""));
  EXPECT_FALSE(valid_header_name("X Custom"));
  EXPECT_FALSE(valid_header_name("X:Custom"));
  EXPECT_FALSE(valid_header_name("X-\r\nA"));
  EXPECT_FALSE(valid_header_name("X-(A)"));
  //  value                →  valid?
  EXPECT_TRUE(valid_header_value(""));
  EXPECT_TRUE(valid_header_value("a b\tc; \"q\" é"));
  EXPECT_FALSE(valid_header_value("a\rb"));
  EXPECT_FALSE(valid_header_value("a\nb"));
  EXPECT_FALSE(valid_header_value(std::string_view{"a\0b", 3}));
  EXPECT_FALSE(valid_header_value("a\x01b"));
  EXPECT_FALSE(valid_header_value("a\x7f"));
}

TEST(handshake, header_values_refuse_every_control_character_but_htab) {
  // RFC 9110 §5.5: field-value = *( VCHAR / obs-text / SP / HTAB ).
  for (int c = 0; c < 256; ++c) {
    const std::string v{'a', static_cast<char>(c), 'b'};
    const bool control = c < 0x20 || c == 0x7f;
    EXPECT_EQ(valid_header_value(v), !control || c == '\t') << "byte " << c;
  }
}

TEST(handshake, client_request_layout) {
  wsx::client_options opts;
  opts.host = "server.example.com";
  opts.target = "/chat?x=1";
  opts.origin = "http://example.com";
  opts.subprotocols = {"chat", "superchat"};
  opts.extra_headers = {{"Authorization", "Bearer t"}};
  EXPECT_EQ(build_client_request(opts, rfc_key),
            "GET /chat?x=1 HTTP/1.1\r\n"
            "Host: server.example.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Origin: http://example.com\r\n"
            "Sec-WebSocket-Protocol: chat, superchat\r\n"
            "Authorization: Bearer t\r\n"
            "\r\n");
}

TEST(handshake, minimal_client_request_omits_optional_headers) {
  wsx::client_options opts;
  opts.host = "h:8080";
  EXPECT_EQ(build_client_request(opts, rfc_key),
            "GET / HTTP/1.1\r\n"
            "Host: h:8080\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");
}

// A 101 for the RFC key with `extra` header lines.
std::string answer(std::string_view extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
         std::string(extra) + "\r\n";
}

TEST(handshake, server_answer_is_accepted_and_fills_opened) {
  wsx::client_options offered;
  offered.subprotocols = {"chat", "superchat"};
  wsx::opened out;
  const auto head = response(answer("Sec-WebSocket-Protocol: superchat\r\nX-Server: wsx\r\n"));
  EXPECT_EQ(check_upgrade_response(head, rfc_key, offered, out), std::error_code{});
  EXPECT_EQ(out.subprotocol, "superchat");
  EXPECT_TRUE(out.extensions.empty());
  ASSERT_EQ(out.headers.size(), 5u);
  EXPECT_EQ(out.headers[4].name, "X-Server");
}

TEST(handshake, server_answers_refused_by_client) {
  struct row {
    std::string_view name;
    std::string wire;
    errc ec;
  };
  //  server's answer                                              →  errc
  const row rows[] = {
      {"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", errc::bad_status},
      {"200",
       "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Content-Length: 0\r\n\r\n",
       errc::bad_status},
      {"no_upgrade",
       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       errc::bad_response},
      {"no_connection",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       errc::bad_response},
      {"no_accept",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\n\r\n",
       errc::bad_accept},
      {"wrong_accept",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       errc::bad_accept},
      {"unoffered_protocol", answer("Sec-WebSocket-Protocol: mqtt\r\n"), errc::bad_subprotocol},
      {"two_protocols", answer("Sec-WebSocket-Protocol: chat, superchat\r\n"),
       errc::bad_subprotocol},
      {"protocol_case_differs", answer("Sec-WebSocket-Protocol: CHAT\r\n"), errc::bad_subprotocol},
      {"extension", answer("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
       errc::bad_extension},
  };
  wsx::client_options offered;
  offered.subprotocols = {"chat", "superchat"};
  for (const auto& r : rows) {
    wsx::opened out;
    EXPECT_EQ(check_upgrade_response(response(r.wire), rfc_key, offered, out),
              std::error_code{r.ec})
        << r.name;
  }
}

TEST(handshake, any_subprotocol_is_refused_when_none_was_offered) {
  wsx::opened out;
  EXPECT_EQ(check_upgrade_response(response(answer("Sec-WebSocket-Protocol: chat\r\n")), rfc_key,
                                   {}, out),
            std::error_code{errc::bad_subprotocol});
}

// ---- both sides together (properties) ---------------------------------------------------------

std::string random_token() {
  return "p" +
         *rc::gen::container<std::string>(rc::gen::oneOf(
             rc::gen::inRange('a', static_cast<char>('z' + 1)),
             rc::gen::inRange('0', static_cast<char>('9' + 1)), rc::gen::element('-', '.', '_')));
}

RC_GTEST_PROP(handshake, client_request_passes_server_checks_and_answer_passes_client, ()) {
  wsx::client_options opts;
  opts.host = random_token() + ":" + std::to_string(*rc::gen::inRange(1, 65536));
  opts.target = "/" + random_token() + (*rc::gen::arbitrary<bool>() ? "?" + random_token() : "");
  const auto n = *rc::gen::inRange(0, 5);
  for (int i = 0; i < n; ++i) opts.subprotocols.push_back(random_token());
  const auto key = make_client_key();
  RC_ASSERT(key.size() == 24u);

  wsx::upgrade_request req;
  std::string seen_key;
  const auto f = check_upgrade_request(request(build_client_request(opts, key)), req, seen_key);
  RC_ASSERT(!f.has_value());
  RC_ASSERT(seen_key == key);
  RC_ASSERT(req.target == opts.target);
  RC_ASSERT(req.path + (req.query.empty() && opts.target.find('?') == std::string::npos
                            ? ""
                            : "?" + req.query) ==
            opts.target);
  RC_ASSERT(req.subprotocols == opts.subprotocols);

  wsx::accept_options accept;
  if (!req.subprotocols.empty()) {
    accept.subprotocol = *rc::gen::elementOf(req.subprotocols);
  }
  wsx::opened out;
  const auto ec =
      check_upgrade_response(response(build_accept_response(seen_key, accept)), key, opts, out);
  RC_ASSERT(!ec);
  RC_ASSERT(out.subprotocol == accept.subprotocol);
}

RC_GTEST_PROP(handshake, only_base64_of_16_bytes_is_a_key, ()) {
  // Any 16 bytes, base64-encoded by a reference written here, are accepted; other lengths are not.
  const auto len = *rc::gen::inRange<std::size_t>(0, 40);
  const auto raw =
      *rc::gen::container<std::vector<unsigned char>>(len, rc::gen::arbitrary<unsigned char>());
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string key;
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    const unsigned v = (raw[i] << 16) | (i + 1 < raw.size() ? raw[i + 1] << 8 : 0) |
                       (i + 2 < raw.size() ? raw[i + 2] : 0);
    key += alphabet[(v >> 18) & 63];
    key += alphabet[(v >> 12) & 63];
    key += i + 1 < raw.size() ? alphabet[(v >> 6) & 63] : '=';
    key += i + 2 < raw.size() ? alphabet[v & 63] : '=';
  }
  const auto head =
      request(sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
                             key + "\r\n"));
  wsx::upgrade_request req;
  std::string seen;
  const auto f = check_upgrade_request(head, req, seen);
  if (len == 16) {
    RC_ASSERT(!f.has_value());
    RC_ASSERT(seen == key);
  } else {
    RC_ASSERT(f.has_value());
    RC_ASSERT(f->ec == errc::bad_key);
    RC_ASSERT(f->status == 400);
  }
}

}  // namespace

TEST(handshake, request_targets_are_origin_form_without_spaces_or_controls) {
  using wsx::detail::valid_request_target;
  EXPECT_TRUE(valid_request_target("/"));
  EXPECT_TRUE(valid_request_target("/chat?token=a.b.c&x=%20"));
  EXPECT_FALSE(valid_request_target(""));
  EXPECT_FALSE(valid_request_target("chat"));
  EXPECT_FALSE(valid_request_target("http://example.com/"));  // absolute-form: not for upgrades
  for (int c = 0; c <= 0x20; ++c)
    EXPECT_FALSE(valid_request_target(std::string("/a") + static_cast<char>(c))) << c;
  EXPECT_FALSE(valid_request_target("/a\x7f"));
  EXPECT_TRUE(valid_request_target("/caf\xc3\xa9"));  // bytes >= 0x80 pass (percent-encode them)
}

// ---- opening_handshake: driving one connection's handshake -------------------------------------

namespace {

// Feeds `wire` to `hs` one byte at a time, as a slow peer would; returns the first outcome that
// is not monostate (or monostate if none came) and adds the bytes taken to `used`.
handshake_outcome feed_bytewise(opening_handshake& hs, std::string_view wire, std::size_t& used) {
  for (std::size_t i = used; i < wire.size(); ++i) {
    auto out = hs.feed(wsx::as_bytes(wire.substr(i, 1)), used);
    if (!std::holds_alternative<std::monostate>(out)) return out;
  }
  return {};
}

}  // namespace

TEST(handshake, opening_handshake_reports_a_request_and_leaves_the_frames_behind_it) {
  const wsx::config cfg;
  opening_handshake hs{cfg};
  const std::string head = sample_request(
      "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: chat\r\n");
  const std::string wire = head + "\x81\x80";  // the first bytes of a frame
  std::size_t used = 0;
  auto out = hs.feed(wsx::as_bytes(wire.substr(0, 10)), used);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(out));
  EXPECT_EQ(used, 10u);
  out = hs.feed(wsx::as_bytes(std::string_view(wire).substr(used)), used);
  auto* req = std::get_if<wsx::upgrade_request>(&out);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->subprotocols, (std::vector<std::string>{"chat"}));
  EXPECT_EQ(used, head.size());  // the frame bytes are not the handshake's

  std::string response;
  EXPECT_EQ(hs.accept({"superchat", {}}, response), errc::invalid_argument);  // not offered
  EXPECT_TRUE(response.empty());
  EXPECT_EQ(hs.respond(200, {}, "page", response), errc::invalid_state);  // not a plain request
  EXPECT_TRUE(response.empty());
  EXPECT_FALSE(hs.accept({"chat", {}}, response));
  EXPECT_THAT(response, StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_THAT(response, HasSubstr("Sec-WebSocket-Accept: " + std::string(rfc_accept) + "\r\n"));
  EXPECT_THAT(response, HasSubstr("Sec-WebSocket-Protocol: chat\r\n"));
}

TEST(handshake, opening_handshake_refusal_carries_the_answer_and_the_report) {
  const wsx::config cfg;
  opening_handshake hs{cfg};
  std::size_t used = 0;
  auto out = feed_bytewise(
      hs, sample_request("Host: h\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"), used);
  auto* refusal = std::get_if<handshake_refusal>(&out);
  ASSERT_TRUE(refusal);
  EXPECT_THAT(refusal->response, StartsWith("HTTP/1.1 426 "));
  EXPECT_THAT(refusal->response, HasSubstr("Upgrade: websocket\r\n"));
  EXPECT_EQ(refusal->report.ec, errc::missing_upgrade);
  EXPECT_EQ(refusal->report.status, 426);
  EXPECT_THAT(refusal->report.reason, HasSubstr("Upgrade: websocket header missing"));
}

TEST(handshake, opening_handshake_reports_a_plain_request_when_configured) {
  wsx::config cfg;
  cfg.plain_http = true;
  opening_handshake hs{cfg};
  std::size_t used = 0;
  auto out = feed_bytewise(hs, "GET /health?full HTTP/1.1\r\nHost: h\r\n\r\n", used);
  auto* req = std::get_if<wsx::http_request>(&out);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->path, "/health");
  EXPECT_EQ(req->query, "full");
  std::string response;
  EXPECT_EQ(hs.accept({}, response), errc::invalid_state);  // a page request is not an upgrade
  const std::vector<header_field> headers{{"Content-Type", "text/plain"}};
  EXPECT_FALSE(hs.respond(200, headers, "ok", response));
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 "));
}

TEST(handshake, opening_handshake_client_checks_its_options_and_the_answer) {
  const wsx::config cfg;
  std::unique_ptr<opening_handshake> hs;
  std::string request;
  EXPECT_EQ(opening_handshake::start_client({"", "/", "", {}, {}}, cfg, hs, request),
            errc::invalid_argument);  // no host
  EXPECT_FALSE(hs);
  EXPECT_TRUE(request.empty());

  ASSERT_FALSE(
      opening_handshake::start_client({"example.com", "/ws", "", {"chat"}, {}}, cfg, hs, request));
  ASSERT_TRUE(hs);
  const auto sent = parse(http_parser::kind::request, request);
  const auto key = sent.header("Sec-WebSocket-Key");
  ASSERT_TRUE(key);
  std::size_t used = 0;
  // A subprotocol that was not offered fails the handshake (RFC 6455 §4.1 item 6).
  auto out = feed_bytewise(*hs, build_accept_response(std::string(*key), {"superchat", {}}), used);
  auto* refused = std::get_if<wsx::rejected>(&out);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->ec, errc::bad_subprotocol);
  EXPECT_EQ(refused->status, 101);

  ASSERT_FALSE(
      opening_handshake::start_client({"example.com", "/ws", "", {"chat"}, {}}, cfg, hs, request));
  const auto sent_again = parse(http_parser::kind::request, request);
  const auto key2 = sent_again.header("Sec-WebSocket-Key");
  ASSERT_TRUE(key2);
  used = 0;
  out = feed_bytewise(*hs, build_accept_response(std::string(*key2), {"chat", {}}), used);
  auto* opened = std::get_if<wsx::opened>(&out);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->subprotocol, "chat");
}

TEST(handshake, opening_handshake_client_at_eof_reports_what_came) {
  const wsx::config cfg;
  std::unique_ptr<opening_handshake> hs;
  std::string request;
  ASSERT_FALSE(opening_handshake::start_client({"example.com", "/", "", {}, {}}, cfg, hs, request));
  auto out = hs->at_eof();  // nothing at all
  auto* r = std::get_if<wsx::rejected>(&out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, errc::eof_without_close);
  EXPECT_EQ(r->status, 0);

  ASSERT_FALSE(opening_handshake::start_client({"example.com", "/", "", {}, {}}, cfg, hs, request));
  std::size_t used = 0;
  // A refusal whose body runs to EOF is complete only then.
  const std::string refusal = "HTTP/1.1 503 Service Unavailable\r\n\r\nbusy";
  EXPECT_TRUE(std::holds_alternative<std::monostate>(feed_bytewise(*hs, refusal, used)));
  out = hs->at_eof();
  r = std::get_if<wsx::rejected>(&out);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, errc::bad_status);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy");
}

// ---- opening_handshake: the HTTP edges ----------------------------------------------------------

namespace {

const std::string upgrade_lines =
    "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

std::string refusal_bytes(int status, std::string_view reason, std::string_view extra = {}) {
  const std::string body = std::string(reason) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_phrase(status)) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n" + std::string(extra) + "\r\n" +
         body;
}

// Feeds `wire` cut at `cuts` (ascending offsets), stopping at the first outcome.
handshake_outcome feed_cut(opening_handshake& hs, std::string_view wire,
                           std::vector<std::size_t> cuts, std::size_t& used) {
  cuts.push_back(wire.size());
  std::size_t from = 0;
  for (const std::size_t to : cuts) {
    if (to < from) continue;
    std::size_t took = 0;
    auto out = hs.feed(wsx::as_bytes(wire.substr(from, to - from)), took);
    used += took;
    if (!std::holds_alternative<std::monostate>(out)) return out;
    from = to;
  }
  return {};
}

// A refusal's answer and report as one string, to compare outcomes; empty for anything else.
std::string refusal_text(const handshake_outcome& out) {
  const auto* r = std::get_if<handshake_refusal>(&out);
  if (r == nullptr) return {};
  return r->response + "|" + std::to_string(r->report.status) + "|" + r->report.reason + "|" +
         std::to_string(r->report.ec.value());
}

}  // namespace

TEST(handshake, upgrade_with_a_body_is_refused_and_the_body_is_not_taken) {
  const wsx::config cfg;
  const struct {
    std::string head;
    std::string body;
    std::string reason;
  } cases[] = {
      {sample_request(upgrade_lines + "Content-Length: 5\r\n"), "hello",
       "an upgrade request must not have a body (Content-Length: 5)"},
      {sample_request(upgrade_lines + "Transfer-Encoding: chunked\r\n"), "5\r\nhello\r\n0\r\n\r\n",
       "an upgrade request must not have a body (Transfer-Encoding: chunked)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.head);
    opening_handshake hs{cfg};
    std::size_t used = 0;
    const auto out = feed_bytewise(hs, c.head + c.body, used);
    const auto* r = std::get_if<handshake_refusal>(&out);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->response, refusal_bytes(400, c.reason));
    EXPECT_EQ(r->report.ec, errc::upgrade_with_body);
    EXPECT_EQ(r->report.status, 400);
    EXPECT_EQ(r->report.reason, c.reason);
    EXPECT_EQ(used, c.head.size());  // the body was never taken as frames
  }
}

TEST(handshake, upgrade_with_content_length_0_is_accepted) {
  wsx::upgrade_request req;
  std::string key;
  EXPECT_EQ(check_upgrade_request(request(sample_request(upgrade_lines + "Content-Length: 0\r\n")),
                                  req, key),
            std::nullopt);
}

TEST(handshake, without_plain_http_a_head_request_gets_405_with_no_body) {
  const wsx::config cfg;
  opening_handshake hs{cfg};
  std::size_t used = 0;
  const auto out = feed_bytewise(hs, "HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n", used);
  const auto* r = std::get_if<handshake_refusal>(&out);
  ASSERT_TRUE(r);
  const std::string reason = "method HEAD not allowed for /healthz; it allows only GET";
  std::string head_only = refusal_bytes(405, reason, "Allow: GET\r\n");
  head_only.resize(head_only.size() - reason.size() - 1);  // RFC 9110 §9.3.2: no content
  EXPECT_EQ(r->response, head_only);
  EXPECT_EQ(r->report.ec, errc::not_get);
  EXPECT_EQ(r->report.reason, reason);
}

TEST(handshake, plain_http_takes_every_method_and_http_1_0) {
  wsx::config cfg;
  cfg.plain_http = true;
  const struct {
    std::string wire;
    std::string method;
    std::string path;
  } cases[] = {
      {"GET /healthz HTTP/1.0\r\n\r\n", "GET", "/healthz"},
      {"HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD", "/healthz"},
      {"OPTIONS / HTTP/1.0\r\n\r\n", "OPTIONS", "/"},
      {"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na=b", "POST", "/form"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.wire);
    opening_handshake hs{cfg};
    std::size_t used = 0;
    const auto out = feed_bytewise(hs, c.wire, used);
    const auto* req = std::get_if<wsx::http_request>(&out);
    ASSERT_TRUE(req);
    EXPECT_EQ(req->method, c.method);
    EXPECT_EQ(req->path, c.path);
  }
}

TEST(handshake, plain_head_answers_carry_the_head_only) {
  wsx::config cfg;
  cfg.plain_http = true;
  const std::vector<header_field> type{{"Content-Type", "text/plain"}};
  opening_handshake hs{cfg};
  std::size_t used = 0;
  (void)feed_bytewise(hs, "HEAD /healthz HTTP/1.0\r\n\r\n", used);
  std::string response;
  ASSERT_FALSE(hs.respond(200, type, "ok\n", response));
  EXPECT_EQ(response,
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n"
            "Content-Type: text/plain\r\n\r\n");
  response.clear();
  ASSERT_FALSE(hs.reject(405, "nope", {}, response));
  EXPECT_EQ(response,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\nConnection: close\r\n\r\n");

  opening_handshake get{cfg};
  used = 0;
  (void)feed_bytewise(get, "GET /healthz HTTP/1.0\r\n\r\n", used);
  ASSERT_FALSE(get.respond(200, type, "ok\n", response));
  EXPECT_THAT(response, testing::EndsWith("\r\n\r\nok\n"));
}

TEST(handshake, plain_http_still_refuses_what_breaks_http_or_the_upgrade) {
  wsx::config cfg;
  cfg.plain_http = true;
  const struct {
    std::string wire;
    errc ec;
    int status;
    std::string reason;
  } cases[] = {
      // RFC 9112 §3.2: HTTP/1.1 needs Host, plain or not.
      {"GET / HTTP/1.1\r\n\r\n", errc::missing_host, 400,
       "Host header missing; HTTP/1.1 requires it"},
      // An Upgrade header makes it an upgrade: its faults are named as before.
      {sample_request("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n"),
       errc::bad_key, 400,
       "Sec-WebSocket-Key header missing; it must be base64 of 16 random bytes"},
      {sample_request(upgrade_lines + "Content-Length: 5\r\n") + "hello", errc::upgrade_with_body,
       400, "an upgrade request must not have a body (Content-Length: 5)"},
      {"GET / HTTP/1.1\nHost: h\r\n\r\n", errc::bad_request, 400,
       "malformed HTTP request: bare LF line ending in the request head; every line must end "
       "with CRLF"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.wire);
    opening_handshake hs{cfg};
    std::size_t used = 0;
    const auto out = feed_bytewise(hs, c.wire, used);
    const auto* r = std::get_if<handshake_refusal>(&out);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->report.ec, c.ec);
    EXPECT_EQ(r->report.status, c.status);
    EXPECT_EQ(r->report.reason, c.reason);
    EXPECT_EQ(r->response, refusal_bytes(c.status, c.reason));
  }
}

RC_GTEST_PROP(handshake, edge_requests_have_the_same_outcome_under_any_chunking, ()) {
  const std::vector<std::string> wires = {
      sample_request(upgrade_lines + "Content-Length: 5\r\n") + "hello",
      sample_request(upgrade_lines + "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n",
      "GET /chat HTTP/1.1\r\nHost: h\nUpgrade: websocket\r\n\r\n",
      "GET /chat HTTP/1.1\r\nHost: h\r\n\n",
      "HEAD /healthz HTTP/1.0\r\n\r\n",
      "OPTIONS / HTTP/1.0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
  };
  const std::string wire = *rc::gen::elementOf(wires);
  wsx::config cfg;
  cfg.plain_http = *rc::gen::arbitrary<bool>();
  std::vector<std::size_t> cuts = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, wire.size() + 1));
  std::sort(cuts.begin(), cuts.end());

  opening_handshake whole{cfg};
  std::size_t whole_used = 0;
  const auto a = whole.feed(wsx::as_bytes(wire), whole_used);
  opening_handshake cut{cfg};
  std::size_t cut_used = 0;
  const auto b = feed_cut(cut, wire, cuts, cut_used);
  RC_ASSERT(!std::holds_alternative<std::monostate>(a));
  RC_ASSERT(a.index() == b.index());
  RC_ASSERT(refusal_text(a) == refusal_text(b));
  if (const auto* ra = std::get_if<wsx::http_request>(&a))
    RC_ASSERT(ra->method == std::get<wsx::http_request>(b).method);
  if (!std::holds_alternative<handshake_refusal>(a)) RC_ASSERT(whole_used == cut_used);
}
