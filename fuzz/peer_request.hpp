// An HTTP request as a peer would send it to a server, built from fuzzer input (connection_fuzz):
// the valid upgrade request, a plain GET without any Upgrade header (what config::plain_http
// turns into an http_request), and near misses that the core refuses whatever plain_http says.
// Each comes with the outcome RFC 6455 §4.2.1 and docs/core.md give it, without and with
// config::plain_http, in the core's order of checks: method, HTTP version, Host, body, Upgrade.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsx::fuzz {

// What the server must make of a request once its head is complete.
enum class request_outcome : std::uint8_t {
  upgrade,            // upgrade_request
  plain,              // http_request (config::plain_http, no Upgrade header)
  missing_upgrade,    // rejected{missing_upgrade, 426}: an Upgrade header, but not websocket
  not_get,            // rejected{not_get, 405}
  bad_http_version,   // rejected{bad_http_version, 400}
  missing_host,       // rejected{missing_host, 400}
  upgrade_with_body,  // rejected{upgrade_with_body, 400}
};

struct peer_request {
  std::string bytes;   // the head, then maybe a body or a pipelined request the core must ignore
  std::string target;  // as in the request line
  request_outcome outcome;             // config::plain_http off
  request_outcome outcome_plain_http;  // config::plain_http on
};

inline constexpr std::string_view upgrade_key = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view upgrade_request_text =
    "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

// From one provider byte: bits 0-2 the kind (upgrade, plain GET, plain GET with Connection:
// keep-alive, "Connection: Upgrade" alone, "Upgrade: h2c", POST, HTTP/1.0, no Host), bits 3-4 the
// target, bit 5 lower-case header names, bit 6 a body announced by Content-Length, bit 7 a second
// request pipelined behind the first.
inline peer_request synthesize_request(FuzzedDataProvider& fdp) {
  constexpr std::array<std::string_view, 4> targets{"/", "/healthz?v=1", "/a/b.html?x=1&y", "/?"};
  const auto sel = fdp.ConsumeIntegral<std::uint8_t>();
  const unsigned kind = sel & 7;
  const bool lower = (sel & 0x20) != 0;
  if (kind == 0)
    return {std::string(upgrade_request_text), "/chat?room=1", request_outcome::upgrade,
            request_outcome::upgrade};

  peer_request r;
  r.target = targets[(sel >> 3) & 3];
  const auto header = [&](std::string_view name, std::string_view value) {
    std::string n(name);
    if (lower)
      for (char& ch : n) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    r.bytes += n + ": " + std::string(value) + "\r\n";
  };
  r.bytes = std::string(kind == 5 ? "POST " : "GET ") + r.target +
            (kind == 6 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  if (kind != 7) header("Host", "example.com");
  header("Accept", "*/*");
  switch (kind) {
    case 2:
      header("Connection", "keep-alive");
      break;
    case 3:
      header("Connection", "Upgrade");
      break;
    case 4:
      header("Connection", "Upgrade");
      header("Upgrade", "h2c");
      break;
  }
  const bool body = (sel & 0x40) != 0;
  if (body) header("Content-Length", "5");
  r.bytes += "\r\n";
  if (body) r.bytes += "hello";
  if (sel & 0x80) r.bytes += "GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n";
  using o = request_outcome;
  // Kinds 1-4 pass the method, version and Host checks: a body is refused before Upgrade is.
  const o no_upgrade = body ? o::upgrade_with_body : o::missing_upgrade;
  const std::array<o, 8> outcomes{o::upgrade, no_upgrade, no_upgrade,          no_upgrade,
                                  no_upgrade, o::not_get, o::bad_http_version, o::missing_host};
  // With plain_http every request without an Upgrade header is the application's, but an
  // HTTP/1.1 one without Host (kind 7); kind 4 has an Upgrade header.
  const std::array<o, 8> plain{o::upgrade, o::plain, o::plain, o::plain,
                               no_upgrade, o::plain, o::plain, o::missing_host};
  r.outcome = outcomes[kind];
  r.outcome_plain_http = plain[kind];
  return r;
}

}  // namespace wsx::fuzz
