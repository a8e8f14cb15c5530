// HTTP/1.1 field syntax and the HTTP answers the core writes around the WebSocket handshake:
// case-insensitive names, comma-separated lists across repeated headers (RFC 7230 §3.2.2, §7),
// token and field-value syntax (RFC 9110 §5.5, §5.6.2), what the application may add to an
// answer, and the refusal and plain responses. Anything that reaches a header line has CR, LF
// and NUL replaced (one_line), so no input can inject a header; a peer's value shown in a
// reason is cut short and made printable ASCII.
#include "detail/http_fields.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace wsx::detail {

namespace {

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

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

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// RFC 9112 §6.3: a Transfer-Encoding or a non-zero Content-Length announces a body.
std::optional<std::string> body_announced(const std::vector<header_field>& h) {
  if (const auto te = joined(h, "Transfer-Encoding")) return "Transfer-Encoding: " + printable(*te);
  if (const auto length = joined(h, "Content-Length")) {
    for (const auto& n : split_list(*length, false)) {
      if (n.find_first_not_of('0') != std::string::npos)
        return "Content-Length: " + printable(*length);
    }
  }
  return std::nullopt;
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

void drop_body(std::string& response) {
  // The head written above has no empty line inside: append_header() keeps each field on one.
  const auto end = response.find("\r\n\r\n");
  if (end != std::string::npos) response.resize(end + 4);
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

}  // namespace wsx::detail
