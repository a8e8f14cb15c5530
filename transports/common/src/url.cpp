// URL splitting for the client: scheme, authority (host and port), and the request target.
//
// Only what RFC 6455 §3 allows: "ws" / "wss" (any case), no userinfo, no fragment. The host is
// a name, an IPv4 literal or an IPv6 literal in brackets; it is kept as written (minus the
// brackets) for resolution, SNI and certificate checking. The target is the path, "/" when
// empty, plus the query, sent as given.
#include "wsx/common/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace wsx {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool has_space_or_control(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool valid_port(std::string_view p) noexcept {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  return !p.empty() && ec == std::errc{} && end == p.data() + p.size() && value >= 1 &&
         value <= 65535;
}

}  // namespace

std::optional<ws_url> parse_ws_url(std::string_view url, std::string& error) {
  ws_url out;
  const std::size_t colon = url.find("://");
  if (colon == std::string_view::npos) {
    error = "not a WebSocket URL (expected ws://host[:port]/path or wss://…)";
    return std::nullopt;
  }
  const std::string_view scheme = url.substr(0, colon);
  if (iequals(scheme, "wss")) {
    out.tls = true;
  } else if (!iequals(scheme, "ws")) {
    error = "unsupported URL scheme '" + std::string(scheme) + "' (expected ws or wss)";
    return std::nullopt;
  }
  std::string_view rest = url.substr(colon + 3);
  if (has_space_or_control(rest)) {
    error = "the URL contains a space or a control character";
    return std::nullopt;
  }
  if (rest.find('#') != std::string_view::npos) {
    error = "WebSocket URLs must not have a fragment (RFC 6455 section 3)";
    return std::nullopt;
  }
  const std::size_t path_at = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_at);
  std::string_view target =
      path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    error = "user information in WebSocket URLs is not supported";
    return std::nullopt;
  }

  std::string_view host = authority;
  std::string_view port;
  bool v6 = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in the URL";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    v6 = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected characters after the IPv6 address";
        return std::nullopt;
      }
      port = after.substr(1);
    }
  } else if (const std::size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  const std::string_view default_port = out.tls ? "443" : "80";
  if (port.empty()) port = default_port;
  if (!valid_port(port)) {
    error = "bad port '" + std::string(port) + "' in the URL";
    return std::nullopt;
  }

  out.host = std::string(host);
  out.port = std::string(port);
  out.authority = v6 ? "[" + out.host + "]" : out.host;
  if (port != default_port) out.authority += ":" + out.port;
  out.target =
      target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return out;
}

}  // namespace wsx
