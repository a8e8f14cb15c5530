// ws:// and wss:// URLs (RFC 6455 §3), split for name resolution, TLS and the upgrade request:
// what every transport's client does with the URL it is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wsx {

struct ws_url {
  bool tls = false;       // wss
  std::string host;       // without IPv6 brackets: for name resolution, SNI and certificate checks
  std::string port;       // decimal, the scheme's default (80/443) when the URL names none
  std::string authority;  // the Host header: host (v6 in brackets), ":port" unless the default
  std::string target;     // path (at least "/") and "?query"
};

// Splits `url`. On failure returns nullopt and says why in `error` (unknown scheme, userinfo,
// fragment — RFC 6455 §3 forbids it —, empty host, bad port, spaces or control characters).
std::optional<ws_url> parse_ws_url(std::string_view url, std::string& error);

}  // namespace wsx
