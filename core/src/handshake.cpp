// The opening handshake (RFC 6455 §4) on top of a parsed http_head.
//
// Server: check_upgrade_request() runs the §4.2.1 checks in a fixed order and, for the first one
// that fails, returns the status, the extra headers the answer must carry and a one-line reason
// naming the header and the usual fix (most often: a reverse proxy dropped Upgrade/Connection).
// The builders write the 101 or the refusal; anything that reaches a header line has CR, LF and
// NUL replaced so no input can inject headers. The application's own headers are checked first
// (valid_answer_headers): RFC 9110 field syntax, and none that restates what the core writes, so
// every answer stays one well-framed HTTP/1.1 message. Client: build_client_request() writes
// the GET and check_upgrade_response() runs the §4.1 checks of the answer. Header lists are read
// as comma-separated tokens across repeated headers (RFC 7230 §3.2.2, §7).
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "detail/handshake.hpp"
#include "detail/random.hpp"

namespace wsx::detail {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view proxy_hint =
    "if a reverse proxy sits in front, forward the Upgrade and Connection headers (nginx: "
    "proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\")";

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// All values of the headers named `name`, joined with ", " (RFC 7230 §3.2.2: repeated list
// headers mean the same as one comma-separated list). nullopt when none is present.
std::optional<std::string> joined(const std::vector<header_field>& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& h : headers) {
    if (!ascii_iequals(h.name, name)) continue;
    if (out) {
      *out += ", ";
      *out += h.value;
    } else {
      out = h.value;
    }
  }
  return out;
}

// Splits a comma-separated list into trimmed, non-empty elements (RFC 7230 §7). With
// `quotes`, commas inside quoted-strings (and their backslash escapes) do not split.
std::vector<std::string> split_list(std::string_view list, bool quotes) {
  std::vector<std::string> out;
  std::size_t start = 0;
  bool in_quote = false;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size()) {
      const char c = list[i];
      if (quotes && in_quote && c == '\\') {
        ++i;
        continue;
      }
      if (quotes && c == '"') in_quote = !in_quote;
      if (c != ',' || in_quote) continue;
    }
    const auto item = trim(list.substr(start, i - start));
    if (!item.empty()) out.emplace_back(item);
    start = i + 1;
  }
  return out;
}

bool has_token(const std::optional<std::string>& list, std::string_view token) {
  if (!list) return false;
  for (const auto& t : split_list(*list, false)) {
    if (ascii_iequals(t, token)) return true;
  }
  return false;
}

// A peer-supplied value made safe to show in a one-line reason: short, printable ASCII.
std::string printable(std::string_view v) {
  constexpr std::size_t max_shown = 60;
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (v.size() > max_shown) out += "...";
  return out;
}

std::string quoted(std::string_view v) { return "\"" + printable(v) + "\""; }

// Replaces CR, LF and NUL so the text cannot end a header line early.
std::string one_line(std::string_view s) {
  std::string out{s};
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += one_line(name);
  out += ": ";
  out += one_line(value);
  out += "\r\n";
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 6455 §4.2.1 item 5: the key decodes to 16 bytes, i.e. 22 base64 characters and "==".
// The last character before the padding must carry zero low bits (canonical encoding).
bool valid_client_key(std::string_view key) noexcept {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64_value(key[i]) < 0) return false;
  }
  return (base64_value(key[21]) & 0x0F) == 0;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len > 0 ? static_cast<std::size_t>(len) : 0);
  return out;
}

handshake_failure refuse(errc ec, int status, std::string reason,
                         std::vector<header_field> headers = {}) {
  return {ec, status, std::move(reason), std::move(headers)};
}

std::string with_hint(std::string_view what, const std::optional<std::string>& got) {
  std::string out{what};
  if (got) out += " (got " + quoted(*got) + ")";
  out += "; ";
  out += proxy_hint;
  return out;
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string accept_key(std::string_view client_key) {
  std::string input{client_key};
  input += websocket_guid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) !=
      1) {
    return {};
  }
  return base64(digest.data(), digest_len);
}

// ---- server ------------------------------------------------------------------------------------

std::optional<handshake_failure> check_upgrade_request(const http_head& head, upgrade_request& req,
                                                       std::string& client_key) {
  const auto& h = head.headers;
  // RFC 6455 §4.1 item 2 / §4.2.1 item 1: "The method of the request MUST be GET".
  if (head.method != "GET") {
    return refuse(
        errc::not_get, 405,
        "method " + printable(head.method) + " not allowed; a WebSocket upgrade must be GET",
        {{"Allow", "GET"}});
  }
  // §4.1 item 2: "the HTTP version MUST be at least 1.1".
  if (head.version_major < 1 || (head.version_major == 1 && head.version_minor < 1)) {
    return refuse(errc::bad_http_version, 400,
                  "HTTP/" + std::to_string(head.version_major) + "." +
                      std::to_string(head.version_minor) +
                      " not supported; a WebSocket upgrade needs HTTP/1.1 (nginx: "
                      "proxy_http_version 1.1)");
  }
  // §4.2.1 item 2: a |Host| header field.
  const auto host = head.header("Host");
  if (!host || trim(*host).empty()) {
    return refuse(errc::missing_host, 400, "Host header missing; HTTP/1.1 requires it");
  }
  // §4.2.1 item 3: an |Upgrade| header field containing "websocket" (426: RFC 7231 §6.5.15).
  const auto upgrade = joined(h, "Upgrade");
  if (!has_token(upgrade, "websocket")) {
    return refuse(errc::missing_upgrade, 426,
                  with_hint("Upgrade: websocket header missing", upgrade),
                  {{"Upgrade", "websocket"}});
  }
  // §4.2.1 item 4: a |Connection| header field that includes the token "Upgrade".
  const auto connection = joined(h, "Connection");
  if (!has_token(connection, "upgrade")) {
    return refuse(errc::missing_connection_upgrade, 426,
                  with_hint("Connection: upgrade header missing", connection),
                  {{"Upgrade", "websocket"}});
  }
  // §4.2.1 item 6 and §4.4: version 13, else 426 with the versions we speak.
  const auto version = joined(h, "Sec-WebSocket-Version");
  if (!version || trim(*version) != "13") {
    return refuse(errc::bad_version, 426,
                  version ? "Sec-WebSocket-Version must be 13 (got " + quoted(*version) + ")"
                          : std::string{"Sec-WebSocket-Version header missing; it must be 13"},
                  {{"Sec-WebSocket-Version", "13"}});
  }
  // §4.2.1 item 5: |Sec-WebSocket-Key|, base64 of a 16-byte nonce.
  const auto key = joined(h, "Sec-WebSocket-Key");
  if (!key || !valid_client_key(*key)) {
    return refuse(errc::bad_key, 400,
                  key ? "Sec-WebSocket-Key must be base64 of 16 bytes (got " + quoted(*key) + ")"
                      : std::string{"Sec-WebSocket-Key header missing; it must be base64 of 16 "
                                    "random bytes"});
  }

  client_key = *key;
  req.method = head.method;
  req.target = head.target;
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? std::string{} : req.target.substr(q + 1);
  req.headers = head.headers;
  // §4.2.1 items 8-9: offered subprotocols and extensions, in order, across repeated headers.
  const auto protocols = joined(h, "Sec-WebSocket-Protocol");
  req.subprotocols = protocols ? split_list(*protocols, false) : std::vector<std::string>{};
  const auto extensions = joined(h, "Sec-WebSocket-Extensions");
  req.extensions = extensions ? split_list(*extensions, true) : std::vector<std::string>{};
  return std::nullopt;
}

handshake_failure parse_failure(errc ec, std::string_view detail) {
  if (ec == errc::headers_too_large) {
    // RFC 6585 §5: 431 Request Header Fields Too Large.
    return refuse(ec, 431,
                  detail.empty() ? std::string{"request head exceeds config::max_header_bytes"}
                                 : "request " + one_line(detail) + " (config::max_header_bytes)");
  }
  return refuse(ec, 400, "malformed HTTP request: " + one_line(detail));
}

bool valid_answer_headers(answer_kind kind, std::span<const header_field> headers) noexcept {
  // RFC 9110 §5.3: one field line per name unless the field is a list; the framing headers are
  // the core's alone (RFC 9112 §6.1, §6.3: a second Content-Length, or Transfer-Encoding beside
  // it, makes the message length ambiguous; RFC 9110 §8.6: none in a 1xx such as the 101).
  constexpr std::string_view everywhere[] = {"Content-Length", "Transfer-Encoding", "Connection"};
  // RFC 6455 §4.2.2 item 5: what the 101 states itself.
  constexpr std::string_view upgrade[] = {"Upgrade", "Sec-WebSocket-Accept",
                                          "Sec-WebSocket-Protocol"};
  constexpr std::string_view refusal[] = {"Content-Type"};
  // RFC 6455 §4.1 items 4-11: what the client's request states itself.
  constexpr std::string_view request[] = {"Host",
                                          "Upgrade",
                                          "Sec-WebSocket-Key",
                                          "Sec-WebSocket-Version",
                                          "Sec-WebSocket-Protocol",
                                          "Sec-WebSocket-Extensions",
                                          "Origin"};
  std::span<const std::string_view> own;
  if (kind == answer_kind::upgrade) own = upgrade;
  if (kind == answer_kind::refusal) own = refusal;
  if (kind == answer_kind::request) own = request;
  for (const auto& h : headers) {
    if (!valid_header_name(h.name) || !valid_header_value(h.value)) return false;
    for (const auto name : everywhere)
      if (ascii_iequals(h.name, name)) return false;
    for (const auto name : own)
      if (ascii_iequals(h.name, name)) return false;
  }
  return true;
}

bool valid_request_target(std::string_view target) noexcept {
  // RFC 9112 §3.2: origin-form; any space or control character would break the request line.
  if (target.empty() || target[0] != '/') return false;
  for (const char ch : target) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool valid_respond(int status, std::string_view body) noexcept {
  // RFC 9110 §15.2: a 1xx is interim and never the answer (101 belongs to the upgrade).
  if (status < 200 || status > 599) return false;
  // RFC 9110 §15.3.5, §15.4.5: a 204 or 304 has no content.
  return body.empty() || (status != 204 && status != 304);
}

std::string build_accept_response(std::string_view client_key, const accept_options& opts) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
  // RFC 6455 §4.2.2 item 5.
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Accept", accept_key(client_key));
  if (!opts.subprotocol.empty()) append_header(out, "Sec-WebSocket-Protocol", opts.subprotocol);
  for (const auto& f : opts.extra_headers) append_header(out, f.name, f.value);
  out += "\r\n";
  return out;
}

std::string build_reject_response(int status, std::string_view reason,
                                  std::span<const header_field> extra) {
  const std::string body = one_line(reason) + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += status_phrase(status);
  out += "\r\n";
  append_header(out, "Content-Type", "text/plain; charset=utf-8");
  append_header(out, "Content-Length", std::to_string(body.size()));
  append_header(out, "Connection", "close");
  for (const auto& f : extra) append_header(out, f.name, f.value);
  out += "\r\n";
  out += body;
  return out;
}

std::string build_http_response(int status, std::span<const header_field> headers,
                                std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += status_phrase(status);
  out += "\r\n";
  // RFC 9110 §8.6: no Content-Length in a 204; in a 304 it would have to be the length of the
  // representation, which the core does not know. Neither has a body (§15.3.5, §15.4.5).
  const bool no_content = status == 204 || status == 304;
  if (!no_content) append_header(out, "Content-Length", std::to_string(body.size()));
  append_header(out, "Connection", "close");
  for (const auto& f : headers) append_header(out, f.name, f.value);
  out += "\r\n";
  if (!no_content) out += body;
  return out;
}

std::string_view status_phrase(int status) noexcept {
  struct entry {
    int code;
    std::string_view phrase;
  };
  // RFC 9110 §15 and RFC 6585 §5.
  // clang-format off
  static constexpr entry table[] = {
      {101, "Switching Protocols"},   {200, "OK"},                 {204, "No Content"},
      {304, "Not Modified"},          {400, "Bad Request"},        {401, "Unauthorized"},
      {403, "Forbidden"},             {404, "Not Found"},          {405, "Method Not Allowed"},
      {406, "Not Acceptable"},        {408, "Request Timeout"},    {409, "Conflict"},
      {410, "Gone"},                  {413, "Content Too Large"},  {414, "URI Too Long"},
      {426, "Upgrade Required"},      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},                    {500, "Internal Server Error"},
      {501, "Not Implemented"},       {502, "Bad Gateway"},        {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
  };
  // clang-format on
  for (const auto& e : table) {
    if (e.code == status) return e.phrase;
  }
  // Not in the table: the generic phrase of the status class.
  if (status >= 400 && status < 500) return "Client Error";
  if (status >= 500 && status < 600) return "Server Error";
  return "Unknown";
}

// ---- client ------------------------------------------------------------------------------------

std::string make_client_key() {
  // RFC 6455 §4.1 item 7: a randomly selected 16-byte nonce, base64-encoded.
  std::array<std::byte, 16> nonce{};
  if (!random_bytes(nonce)) return {};
  return base64(reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size());
}

bool valid_header_name(std::string_view name) noexcept {
  // RFC 7230 §3.2.6: token = 1*tchar.
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (const char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && specials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) noexcept {
  // RFC 9110 §5.5: field-value = *( VCHAR / obs-text / SP / HTAB ); every other control
  // character (CR, LF, NUL, 0x01-0x1F but HTAB, DEL) is refused.
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string build_client_request(const client_options& opts, std::string_view client_key) {
  // RFC 6455 §4.1 items 1-10.
  std::string out = "GET " + one_line(opts.target.empty() ? "/" : opts.target) + " HTTP/1.1\r\n";
  append_header(out, "Host", opts.host);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Key", client_key);
  append_header(out, "Sec-WebSocket-Version", "13");
  if (!opts.origin.empty()) append_header(out, "Origin", opts.origin);
  if (!opts.subprotocols.empty()) {
    std::string list;
    for (const auto& p : opts.subprotocols) list += (list.empty() ? "" : ", ") + p;
    append_header(out, "Sec-WebSocket-Protocol", list);
  }
  for (const auto& f : opts.extra_headers) append_header(out, f.name, f.value);
  out += "\r\n";
  return out;
}

std::error_code check_upgrade_response(const http_head& head, std::string_view client_key,
                                       const client_options& offered, opened& out) {
  const auto& h = head.headers;
  // RFC 6455 §4.1, the client's checks of the server's handshake, items 1-6.
  if (head.status != 101) return errc::bad_status;
  if (!has_token(joined(h, "Upgrade"), "websocket")) return errc::bad_response;
  if (!has_token(joined(h, "Connection"), "upgrade")) return errc::bad_response;
  const auto accept = joined(h, "Sec-WebSocket-Accept");
  if (!accept || trim(*accept) != accept_key(client_key)) return errc::bad_accept;
  // Item 6: the subprotocol must be one the client offered (so none when none was offered).
  std::string chosen;
  if (const auto protocol = joined(h, "Sec-WebSocket-Protocol")) {
    const auto tokens = split_list(*protocol, false);
    if (tokens.size() > 1) return errc::bad_subprotocol;
    if (tokens.size() == 1) {
      bool was_offered = false;
      for (const auto& p : offered.subprotocols) was_offered = was_offered || p == tokens[0];
      if (!was_offered) return errc::bad_subprotocol;
      chosen = tokens[0];
    }
  }
  // Item 5: an extension not offered fails the connection; this client offers none yet.
  if (const auto ext = joined(h, "Sec-WebSocket-Extensions"); ext && !trim(*ext).empty()) {
    return errc::bad_extension;
  }
  out.subprotocol = std::move(chosen);
  out.extensions.clear();
  out.headers = head.headers;
  return {};
}

}  // namespace wsx::detail
