// Theory of operation: the request is written whole (it fits one send()); the response head is
// read by the caller up to CRLF CRLF and checked here line by line: status 101, Upgrade and
// Connection, Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (OpenSSL), and the extensions.
// The answer to the offer is parsed as RFC 7692 §7.1 says a client must: exactly one
// permessage-deflate, each parameter known, valid and given once, client_max_window_bits only if
// offered, and what the offer asked of the server acknowledged.
#include "handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <optional>

namespace deflate_load {
namespace {

std::string base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool icontains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// A window value: 8-15, decimal, quotes allowed (RFC 7692 §7.1.2).
std::optional<unsigned> window_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v == "8" || v == "9") return static_cast<unsigned>(v[0] - '0');
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
    return 10u + static_cast<unsigned>(v[1] - '0');
  return std::nullopt;
}

std::string parse_extensions(std::string_view value, const offer& o, agreement& out) {
  if (value.find(',') != std::string_view::npos) return "more than one extension in the answer";
  std::string_view rest = value;
  const std::size_t semi = rest.find(';');
  if (!iequals(trim(rest.substr(0, semi)), "permessage-deflate"))
    return "answer names an extension that was not offered: " + std::string(value);
  if (!o.deflate) return "answer has permessage-deflate, which was not offered";
  out.deflate = true;
  bool seen[4] = {};
  rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
  while (!trim(rest).empty()) {
    const std::size_t next = rest.find(';');
    const std::string_view param = trim(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    const std::size_t eq = param.find('=');
    const std::string_view name = trim(param.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    const std::string_view given = has_value ? trim(param.substr(eq + 1)) : std::string_view{};
    int which = -1;
    if (name == "server_no_context_takeover") which = 0;
    if (name == "client_no_context_takeover") which = 1;
    if (name == "server_max_window_bits") which = 2;
    if (name == "client_max_window_bits") which = 3;
    if (which < 0) return "unknown parameter in the answer: " + std::string(name);
    if (seen[which]) return "parameter given twice: " + std::string(name);
    seen[which] = true;
    if (which < 2) {
      if (has_value) return "value on " + std::string(name);
      (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    const std::optional<unsigned> bits = has_value ? window_value(given) : std::nullopt;
    if (!bits) return "bad or missing window on " + std::string(name);
    if (which == 2) {
      if (o.server_max_window_bits > 0 && *bits > static_cast<unsigned>(o.server_max_window_bits))
        return "server_max_window_bits above the offered one";
      out.server_window_bits = *bits;
    } else {
      if (o.client_max_window_bits < 0) return "client_max_window_bits was not offered";
      if (o.client_max_window_bits > 0 && *bits > static_cast<unsigned>(o.client_max_window_bits))
        return "client_max_window_bits above the offered one";
      out.client_window_bits = *bits;
    }
  }
  if (o.server_no_context_takeover && !out.server_no_context_takeover)
    return "server_no_context_takeover was offered and not acknowledged";
  if (o.server_max_window_bits > 0 && !seen[2])
    return "server_max_window_bits was offered and not acknowledged";
  if (!seen[3] && o.client_max_window_bits > 0)
    out.client_window_bits = static_cast<unsigned>(o.client_max_window_bits);
  return {};
}

}  // namespace

std::string offer_text(const offer& o) {
  if (!o.deflate) return {};
  std::string s = "permessage-deflate";
  if (o.client_max_window_bits == 0) s += "; client_max_window_bits";
  if (o.client_max_window_bits > 0)
    s += "; client_max_window_bits=" + std::to_string(o.client_max_window_bits);
  if (o.server_max_window_bits > 0)
    s += "; server_max_window_bits=" + std::to_string(o.server_max_window_bits);
  if (o.client_no_context_takeover) s += "; client_no_context_takeover";
  if (o.server_no_context_takeover) s += "; server_no_context_takeover";
  return s;
}

std::string upgrade_request(std::string_view host_port, std::string_view path, std::string_view key,
                            const offer& o) {
  std::string r = "GET ";
  r.append(path).append(" HTTP/1.1\r\nHost: ").append(host_port);
  r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
  r.append("\r\nSec-WebSocket-Version: 13\r\n");
  if (o.deflate) r.append("Sec-WebSocket-Extensions: ").append(offer_text(o)).append("\r\n");
  r.append("\r\n");
  return r;
}

void make_key(std::string& key, std::string& accept) {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) std::memset(nonce, 0x5A, sizeof nonce);
  key = base64(nonce, sizeof nonce);
  const std::string k = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(k.data()), k.size(), digest);
  accept = base64(digest, sizeof digest);
}

std::string check_response(std::string_view head, std::string_view accept, const offer& o,
                           agreement& out) {
  out = agreement{};
  std::size_t eol = head.find("\r\n");
  const std::string_view status = head.substr(0, eol);
  if (status.substr(0, 13) != "HTTP/1.1 101 " && status != "HTTP/1.1 101")
    return "not a 101: " + std::string(status);
  bool upgrade = false, connection = false, accepted = false;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "bad header line: " + std::string(line);
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Upgrade")) upgrade = iequals(value, "websocket");
    if (iequals(name, "Connection")) connection = icontains_token(value, "upgrade");
    if (iequals(name, "Sec-WebSocket-Accept")) accepted = value == accept;
    if (iequals(name, "Sec-WebSocket-Extensions")) {
      if (!out.header.empty()) return "Sec-WebSocket-Extensions given twice";
      out.header = value;
      if (std::string e = parse_extensions(value, o, out); !e.empty()) return e;
    }
  }
  if (!upgrade) return "no Upgrade: websocket";
  if (!connection) return "no Connection: Upgrade";
  if (!accepted) return "wrong or missing Sec-WebSocket-Accept";
  return {};
}

}  // namespace deflate_load
