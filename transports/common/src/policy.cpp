// Origin checks and subprotocol choice.
//
// Origins are compared in one normalized form (RFC 6454 §6.2 serialization): lower-case scheme
// "://" lower-case host, then ":" port only when the port is not the scheme's default. Both the
// configured entries and the request's header go through the same parser, so
// "HTTPS://Example.COM:443" in the configuration matches a browser's "https://example.com". The
// parser accepts only the shape browsers send — no path, query, fragment or userinfo — and anything
// else from a request is simply not allowed (unless "*" allows every origin). Subprotocol choice
// walks the server's list in order: the server, not the client, decides preference.
#include "wsx/common/policy.hpp"

#include <algorithm>
#include <cstdint>

namespace wsx {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::optional<std::uint32_t> default_port(std::string_view scheme) noexcept {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return std::nullopt;
}

// A character allowed in a host outside brackets: RFC 3986 unreserved / sub-delims / '%'.
bool is_host_char(char c) noexcept {
  if (is_alpha(c) || is_digit(c)) return true;
  constexpr std::string_view extra = "-._~!$&'()*+,;=%";
  return extra.find(c) != std::string_view::npos;
}

// The normalized form of `origin`, or nullopt when it is not scheme://host[:port] or "null".
std::optional<std::string> normalize_origin(std::string_view origin) {
  if (origin == "null") return std::string(origin);
  // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const std::size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0 || !is_alpha(origin[0])) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = origin[i];
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
    out += lower(c);
  }
  const std::optional<std::uint32_t> default_p = default_port(out);
  out += "://";
  std::string_view rest = origin.substr(sep + 3);

  std::size_t host_end = 0;
  if (!rest.empty() && rest[0] == '[') {  // IP-literal (RFC 3986 §3.2.2)
    host_end = rest.find(']');
    if (host_end == std::string_view::npos || host_end == 1) return std::nullopt;
    for (std::size_t i = 1; i < host_end; ++i) {
      const char c = rest[i];
      if (!is_alpha(c) && !is_digit(c) && c != ':' && c != '.') return std::nullopt;
    }
    ++host_end;
  } else {
    while (host_end < rest.size() && is_host_char(rest[host_end])) ++host_end;
    if (host_end == 0) return std::nullopt;
  }
  for (std::size_t i = 0; i < host_end; ++i) out += lower(rest[i]);
  rest.remove_prefix(host_end);

  if (rest.empty()) return out;
  if (rest[0] != ':' || rest.size() == 1 || rest.size() > 6) return std::nullopt;
  std::uint32_t port = 0;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    if (!is_digit(rest[i])) return std::nullopt;
    port = port * 10 + static_cast<std::uint32_t>(rest[i] - '0');
  }
  if (port > 65535) return std::nullopt;
  if (default_p != port) out += ":" + std::to_string(port);
  return out;
}

}  // namespace

bool origin_allow_list::add(std::string_view origin) {
  if (origin == "*") {
    any_ = true;
    return true;
  }
  auto normalized = normalize_origin(origin);
  if (!normalized) return false;
  allowed_.insert(std::move(*normalized));
  return true;
}

bool origin_allow_list::allows(std::optional<std::string_view> origin) const {
  if (!origin) return !require_origin_;
  if (any_) return true;
  const auto normalized = normalize_origin(*origin);
  return normalized && allowed_.count(*normalized) != 0;
}

std::optional<std::string> select_subprotocol(const std::vector<std::string>& offered,
                                              const std::vector<std::string>& supported) {
  for (const std::string& s : supported) {
    if (std::find(offered.begin(), offered.end(), s) != offered.end()) return s;
  }
  return std::nullopt;
}

}  // namespace wsx
