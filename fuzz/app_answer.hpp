// What a server application passes to reject() and respond(), built from fuzzer input
// (connection_fuzz), with whether the core must take it: statuses in and out of the documented
// ranges, headers the application may name (Content-Type, its own), headers that break the
// rules (CR/LF/NUL in a value, a name that is no token) and headers that restate what the core
// writes itself (Content-Length, Connection, Transfer-Encoding), and bodies of any bytes.
//
// Three classes of answer: invalid by the oldest documented rules (a status out of range, a name
// that is no token, CR/LF/NUL in a value): errc::invalid_argument with nothing queued; answers
// that would not make a valid final HTTP/1.1 response if written as given (`strict_refusal`: a
// 1xx, which is interim (RFC 9110 §15.2); a body on a 204/304 (§15.3.5, §15.4.5); a header that
// restates the framing, a second Content-Length, a Transfer-Encoding beside it or a second
// Connection (RFC 9112 §6.3); a control character other than HTAB in a value (RFC 9110 §5.5)):
// either refused the same way, or written as a valid response (http_response.hpp checks it); and
// everything else, which must be taken.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detail/handshake.hpp"
#include "http_response.hpp"
#include "wsx/types.hpp"

namespace wsx::fuzz {

// respond(): "a final status (200-599)"; a 1xx is interim and 101 the upgrade's.
inline constexpr std::array<int, 16> respond_statuses{200, 404, 503, 599, 302, 418, 204,  304,
                                                      100, 103, 101, 99,  600, 0,   -200, 1000};
inline bool valid_respond_status(int s) { return s >= 200 && s <= 599; }
// reject(): "http_status (400-599)".
inline constexpr std::array<int, 8> reject_statuses{400, 403, 404, 426, 500, 599, 399, 600};
inline bool valid_reject_status(int s) { return s >= 400 && s <= 599; }

// Whether an answer falls in the second class above (`status` 0 for reject(), whose status is
// fine, and which writes its own Content-Type): the core may refuse it, or must write it as a
// valid response.
inline bool strict_refusal(int status, const std::vector<header_field>& hs, std::string_view body) {
  if ((status == 204 || status == 304) && !body.empty()) return true;
  for (const auto& h : hs) {
    for (const std::string_view framing : {"Content-Length", "Transfer-Encoding", "Connection"})
      if (detail::ascii_iequals(h.name, framing)) return true;
    if (status == 0 && detail::ascii_iequals(h.name, "Content-Type")) return true;
    for (const char ch : h.value)
      if (!is_field_char(ch)) return true;
  }
  return false;
}

// One header from a provider byte: bits 0-2 pick the kind, the rest comes from the provider.
inline header_field synthesize_header(FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegral<std::uint8_t>() & 7) {
    case 0:
      return {"Content-Type", "text/html; charset=utf-8"};
    case 1:  // any bytes: CR, LF and NUL make it invalid
      return {"X-Fuzz", fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(0, 12))};
    case 2:  // any bytes: valid only as an RFC 9110 token
      return {fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<std::size_t>(0, 6)), "v"};
    case 3:
      return {"Cache-Control", "no-store"};
    case 4:
      return {"X-Empty", ""};
    case 5:
      return {"Content-Length", "0"};
    case 6:
      return {"Connection", "keep-alive"};
    default:
      return {"Transfer-Encoding", "chunked"};
  }
}

// Up to three headers.
inline std::vector<header_field> synthesize_headers(FuzzedDataProvider& fdp) {
  std::vector<header_field> hs(fdp.ConsumeIntegralInRange<std::size_t>(0, 3));
  for (auto& h : hs) h = synthesize_header(fdp);
  return hs;
}

// What connection::connect/accept/reject/respond never take as "a header": a name that is no
// RFC 9110 token, or CR, LF or NUL in a value. Written here, not borrowed from the core.
inline bool valid_headers(const std::vector<header_field>& hs) {
  for (const auto& h : hs) {
    if (h.name.empty()) return false;
    for (const char ch : h.name)
      if (!is_tchar(ch)) return false;
    if (h.value.find_first_of(std::string_view{"\r\n\0", 3}) != std::string::npos) return false;
  }
  return true;
}

// A body of any bytes; a selector past 249 asks for one larger than an output block.
inline std::string synthesize_body(FuzzedDataProvider& fdp) {
  const auto sel = fdp.ConsumeIntegral<std::uint8_t>();
  if (sel >= 250) return std::string(static_cast<std::size_t>(sel - 249) * 7000, 'b');
  return fdp.ConsumeBytesAsString(sel);
}

}  // namespace wsx::fuzz
