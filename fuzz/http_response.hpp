// A server's HTTP/1.1 response, checked the strict way (session_checker): the status line, header
// lines `token ":" OWS value OWS` with only visible characters, spaces, tabs and obs-text in a
// value (RFC 9112 §4, §5; RFC 9110 §5.5), the blank line, then a body of exactly Content-Length
// bytes with one Content-Length, no Transfer-Encoding beside it (RFC 9110 §8.6, RFC 9112 §6.1)
// and `Connection: close`, since the core always closes after a non-101 answer; a 204 or 304
// carries neither Content-Length nor body. The same bytes are also read by llhttp
// (detail::http_parser), which must end the message exactly where the body does: anything past
// that would be read by a client as the start of another response.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "detail/handshake.hpp"
#include "wsx/types.hpp"

namespace wsx::fuzz {

// RFC 9110 §5.6.2 tchar.
inline bool is_tchar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         std::string_view{"!#$%&'*+-.^_`|~"}.find(ch) != std::string_view::npos;
}
// RFC 9110 §5.5 field-vchar, SP and HTAB: what a field value (or a reason phrase) may hold.
inline bool is_field_char(char ch) {
  const auto u = static_cast<unsigned char>(ch);
  return ch == '\t' || (u >= 0x20 && u != 0x7F);
}

struct response_head {
  int status = 0;
  std::vector<wsx::header_field> headers;

  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : headers) n += wsx::detail::ascii_iequals(h.name, name) ? 1 : 0;
    return n;
  }
  std::string_view value(std::string_view name) const {
    for (const auto& h : headers)
      if (wsx::detail::ascii_iequals(h.name, name)) return h.value;
    return {};
  }
};

// Parses `head` (status line through the blank line) and checks its syntax; FUZZ_CHECKs it.
inline response_head parse_response_head(std::string_view head) {
  response_head r;
  FUZZ_CHECK(head.starts_with("HTTP/1.1 ") && head.ends_with("\r\n\r\n"));
  std::size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  // RFC 9112 §4: status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]
  FUZZ_CHECK(status_line.size() >= 13 && status_line[12] == ' ');
  for (std::size_t i = 9; i < 12; ++i) FUZZ_CHECK(status_line[i] >= '0' && status_line[i] <= '9');
  r.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  for (const char ch : status_line.substr(13)) FUZZ_CHECK(is_field_char(ch));
  std::size_t pos = eol + 2;
  while (pos < head.size() - 2) {
    eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    const std::string_view name = line.substr(0, colon);
    FUZZ_CHECK(!name.empty());
    for (const char ch : name) FUZZ_CHECK(is_tchar(ch));
    for (const char ch : value) FUZZ_CHECK(is_field_char(ch));
    r.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
  return r;
}

// Checks a whole non-101 response: `head` as parse_response_head() reads it, `rest` the bytes
// after it. Unless `truncated` (the core dropped its output), `rest` is exactly the body, and
// llhttp reads head and body as one complete message of that status and body.
inline response_head check_final_response(std::string_view head, std::string_view rest,
                                          bool truncated) {
  const response_head r = parse_response_head(head);
  FUZZ_CHECK(r.status >= 100 && r.status <= 599 && r.status != 101);
  // RFC 9110 §15.2: a 1xx is interim; the core closes right after, so it can never be the answer.
  FUZZ_CHECK(r.status >= 200);
  FUZZ_CHECK(r.count("Transfer-Encoding") == 0);
  FUZZ_CHECK(r.count("Connection") == 1 &&
             wsx::detail::ascii_iequals(r.value("Connection"), "close"));
  // RFC 9110 §8.6: a 204 carries no Content-Length, and in a 304 it would have to be the
  // representation's length, which the core does not know (docs/core.md: neither gets one);
  // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no body.
  if (r.status == 204 || r.status == 304) {
    FUZZ_CHECK(r.count("Content-Length") == 0);
    FUZZ_CHECK(rest.empty());
  } else {
    FUZZ_CHECK(r.count("Content-Length") == 1);
    const std::string length{r.value("Content-Length")};
    FUZZ_CHECK(!length.empty() && length.size() < 16 &&
               length.find_first_not_of("0123456789") == std::string::npos);
    FUZZ_CHECK(truncated ? rest.size() <= std::stoul(length) : rest.size() == std::stoul(length));
  }
  if (!truncated) {
    wsx::detail::http_parser p{wsx::detail::http_parser::kind::response, 1 << 20};
    std::string all{head};
    all += rest;
    std::size_t used = 0;
    const auto st = p.feed(wsx::as_bytes(all), used);
    if (st != wsx::detail::http_parser::status::complete)
      std::fprintf(stderr, "llhttp does not read our response: %s\n", p.error_detail().c_str());
    FUZZ_CHECK(st == wsx::detail::http_parser::status::complete);
    FUZZ_CHECK(used == all.size());  // nothing a client would take for a second response
    FUZZ_CHECK(p.head().status == r.status && p.head().body == rest);
  }
  return r;
}

}  // namespace wsx::fuzz
