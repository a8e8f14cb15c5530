// HTTP/1.1 field syntax and the plain HTTP answers (refusals, config::plain_http responses) the
// core writes: what the handshake reads headers with and writes them through.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wsx/types.hpp"

namespace wsx::detail {

// ASCII case-insensitive equality, as HTTP compares header names and tokens.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;
// `s` without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
std::string_view trim(std::string_view s) noexcept;
// All values of the headers named `name`, joined with ", " (RFC 7230 §3.2.2: repeated list
// headers mean the same as one comma-separated list). nullopt when none is present.
std::optional<std::string> joined(const std::vector<header_field>& headers, std::string_view name);
// Splits a comma-separated list into trimmed, non-empty elements (RFC 7230 §7). With `quotes`,
// commas inside quoted-strings (and their backslash escapes) do not split.
std::vector<std::string> split_list(std::string_view list, bool quotes);
// True when the list holds `token` (case-insensitive).
bool has_token(const std::optional<std::string>& list, std::string_view token);
// A peer-supplied value made safe to show in a one-line reason: at most 60 bytes of printable
// ASCII ('?' for the rest, "..." when cut); quoted() puts it in double quotes.
std::string printable(std::string_view v);
std::string quoted(std::string_view v);
// `s` with CR, LF and NUL replaced by spaces, so it cannot end a header line early.
std::string one_line(std::string_view s);
// Appends "name: value\r\n", both through one_line().
void append_header(std::string& out, std::string_view name, std::string_view value);

// "Content-Length: 5" or "Transfer-Encoding: chunked" (the value shown as printable()) when the
// headers announce a body (RFC 9112 §6.3); nullopt when none (no such header, Content-Length 0).
std::optional<std::string> body_announced(const std::vector<header_field>& headers);

// True when a header name or value may be sent: names are RFC 9110 tokens, values hold no control
// character but HTAB (RFC 9110 §5.5: VCHAR, obs-text, SP, HTAB), so no CR, LF, NUL or DEL.
bool valid_header_name(std::string_view name) noexcept;
bool valid_header_value(std::string_view value) noexcept;
// True when `target` may be a request target: starts with '/', no space or control character.
bool valid_request_target(std::string_view target) noexcept;

// Which message the application's headers go into: accept() (101), reject(), respond(), or the
// client's upgrade request (connect()).
enum class answer_kind : std::uint8_t { upgrade, refusal, plain, request };
// True when the application may add `headers` to that answer: every name a token, every value
// valid (valid_header_value), and no name (case-insensitive) that the core writes itself or that
// frames the message: Content-Length, Transfer-Encoding and Connection in every answer, plus
// Upgrade, Sec-WebSocket-Accept and Sec-WebSocket-Protocol in a 101 (name the subprotocol in
// accept_options) and Content-Type in a refusal; in a request, Host, Upgrade, Origin and the
// Sec-WebSocket-Key/-Version/-Protocol/-Extensions headers (client_options names the ones the
// application may choose; wsx offers no extension, so offering one by hand would break the
// handshake).
bool valid_answer_headers(answer_kind kind, std::span<const header_field> headers) noexcept;
// True when respond() may answer with `status` and `body`: a final status 200-599 (no 1xx, which
// is interim), and no body with 204 or 304.
bool valid_respond(int status, std::string_view body) noexcept;

// "HTTP/1.1 <status> <phrase>" with Content-Type text/plain, Content-Length, Connection: close,
// `extra` headers, and the body `reason` + "\n".
std::string build_reject_response(int status, std::string_view reason,
                                  std::span<const header_field> extra);
// "HTTP/1.1 <status> <phrase>" with Content-Length, Connection: close, `headers` (the caller
// names the Content-Type), and `body` as is. For plain HTTP answers (config::plain_http). A 204
// or 304 gets neither Content-Length nor body (valid_respond() refuses a body for them).
std::string build_http_response(int status, std::span<const header_field> headers,
                                std::string_view body);
// Cuts `response` (one answer written above) after the blank line that ends its head: the answer
// to a HEAD request (RFC 9110 §9.3.2), which keeps the Content-Length GET would get.
void drop_body(std::string& response);
// The standard reason phrase for `status` ("Bad Request", "Upgrade Required", ...).
std::string_view status_phrase(int status) noexcept;

}  // namespace wsx::detail
