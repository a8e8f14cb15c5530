// http_parser: an incremental HTTP/1.1 head parser over llhttp, for the WebSocket upgrade.
//
// llhttp is driven with our callbacks; on_headers_complete always pauses the parser, so that
// llhttp_get_error_pos() gives the exact end of the head ("\r\n\r\n") whatever the chunking.
// A request and a 101 response stop there: the bytes after the head are WebSocket frames and
// are left to the caller. Any other response resumes and reads its body (kept up to the limit);
// on_message_complete pauses again so the end of the message is exact too. The head limit is
// enforced by never handing llhttp more than the bytes still allowed: one byte past the limit
// means errc::headers_too_large. Header names and values arrive in pieces (one callback per
// chunk), so each piece is appended to the field being built.
#include <llhttp.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "detail/handshake.hpp"

namespace wsx::detail {

namespace {

// llhttp needs a valid pointer even for an empty input.
constexpr char empty_input[1] = {'\0'};

void trim_trailing_ows(std::string& s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
}

}  // namespace

struct http_parser::state {
  llhttp_t parser{};
  llhttp_settings_t settings{};
  http_parser* owner = nullptr;
  std::size_t max_bytes = 0;
  std::size_t head_bytes = 0;  // bytes of the head consumed so far
  bool in_value = false;       // the last header piece was a value
  bool head_done = false;      // on_headers_complete ran
  bool message_done = false;   // on_message_complete ran (non-101 response)
  bool after_cr = false;       // the last head byte seen so far is a CR

  // The offset of the first LF in [at, at + n) that no CR precedes, or n; remembers whether the
  // last byte looked at is a CR, for the next chunk.
  std::size_t find_bare_lf(const char* at, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (at[i] == '\n' && !after_cr) return i;
      after_cr = at[i] == '\r';
    }
    return n;
  }

  static state& of(llhttp_t* p) { return *static_cast<state*>(p->data); }
  static std::string& append(std::string& to, const char* at, std::size_t n) {
    return to.append(at, n);
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    append(of(p).owner->head_.target, at, n);
    return 0;
  }
  static int on_status(llhttp_t* p, const char* at, std::size_t n) {
    append(of(p).owner->head_.reason_phrase, at, n);
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    auto& headers = s.owner->head_.headers;
    if (s.in_value || headers.empty()) {
      if (!headers.empty()) trim_trailing_ows(headers.back().value);
      headers.emplace_back();
      s.in_value = false;
    }
    append(headers.back().name, at, n);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    auto& headers = s.owner->head_.headers;
    if (headers.empty()) headers.emplace_back();  // a value with no name: refused at the end
    s.in_value = true;
    append(headers.back().value, at, n);
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    auto& s = of(p);
    auto& head = s.owner->head_;
    if (!head.headers.empty()) trim_trailing_ows(head.headers.back().value);
    head.version_major = p->http_major;
    head.version_minor = p->http_minor;
    if (p->type == HTTP_REQUEST) {
      head.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    } else {
      head.status = p->status_code;
    }
    s.head_done = true;
    return HPE_PAUSED;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    auto& body = s.owner->head_.body;
    const std::size_t room = s.max_bytes > body.size() ? s.max_bytes - body.size() : 0;
    append(body, at, std::min(n, room));
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    of(p).message_done = true;
    return HPE_PAUSED;
  }
};

std::optional<std::string_view> http_head::header(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view{h.value};
  }
  return std::nullopt;
}

http_parser::http_parser(kind k, std::size_t max_header_bytes) : state_(std::make_unique<state>()) {
  auto& s = *state_;
  llhttp_settings_init(&s.settings);
  s.settings.on_url = &state::on_url;
  s.settings.on_status = &state::on_status;
  s.settings.on_header_field = &state::on_header_field;
  s.settings.on_header_value = &state::on_header_value;
  s.settings.on_headers_complete = &state::on_headers_complete;
  s.settings.on_body = &state::on_body;
  s.settings.on_message_complete = &state::on_message_complete;
  llhttp_init(&s.parser, k == kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &s.settings);
  s.parser.data = &s;
  s.owner = this;
  s.max_bytes = max_header_bytes;
}

http_parser::~http_parser() = default;

http_parser::status http_parser::fail(errc ec, std::string detail) {
  error_ = ec;
  error_detail_ = std::move(detail);
  status_ = status::error;
  return status_;
}

http_parser::status http_parser::fail_malformed(const char* reason) {
  const bool request = state_->parser.type == HTTP_REQUEST;
  return fail(request ? errc::bad_request : errc::bad_response,
              reason != nullptr ? reason : "malformed HTTP message");
}

http_parser::status http_parser::fail_malformed() {
  return fail_malformed(llhttp_get_error_reason(&state_->parser));
}

http_parser::status http_parser::feed(bytes_view in, std::size_t& consumed) {
  consumed = 0;
  if (status_ != status::need_more) return status_;
  auto& s = *state_;
  const char* base = in.empty() ? empty_input : reinterpret_cast<const char*>(in.data());

  if (!s.head_done) {
    // Never show llhttp a byte past the limit: a head that needs one more is too large.
    const std::size_t room = s.max_bytes - s.head_bytes;
    const std::size_t n = std::min(in.size(), room);
    // RFC 9112 §2.2 lets a recipient take a bare LF as a line end; a request head with one is
    // refused instead, whatever line it is on (llhttp takes it in some places and not others,
    // and peers that disagree on where a line ends disagree on the message). llhttp is shown
    // only the bytes before the first bare LF, so which refusal wins depends on the bytes alone:
    // llhttp's, when it refuses a byte before that LF (its error position is sometimes the
    // refused byte and sometimes the one after it, which may not have arrived yet), else ours.
    const std::size_t lf = s.parser.type == HTTP_REQUEST ? s.find_bare_lf(base, n) : n;
    const llhttp_errno_t err = llhttp_execute(&s.parser, base, lf);
    if (err == HPE_PAUSED && s.head_done) {
      const char* end = llhttp_get_error_pos(&s.parser);
      consumed = static_cast<std::size_t>(end - base);
      s.head_bytes += consumed;
      // llhttp built without LLHTTP_STRICT_MODE accepts "\r" + any byte as the end of the head
      // and spaces in names; RFC 7230 §3 and §3.2 allow neither. The head's last byte is always
      // in this chunk: llhttp consumed it just before calling on_headers_complete.
      if (end[-1] != '\n') return fail_malformed("Expected LF after headers");
      for (const auto& h : head_.headers) {
        if (!valid_header_name(h.name)) return fail_malformed("Invalid header token");
      }
      // RFC 6455 §4.1/§4.2.1: after a request or a 101 the connection speaks WebSocket.
      if (s.parser.type == HTTP_REQUEST || head_.status == 101) {
        status_ = status::complete;
        return status_;
      }
      llhttp_resume(&s.parser);
    } else if (err != HPE_OK) {
      consumed = lf;
      return fail_malformed();
    } else if (lf < n) {
      consumed = lf + 1;
      return fail_malformed(
          "bare LF line ending in the request head; every line must end with CRLF");
    } else {
      consumed = n;
      s.head_bytes += n;
      if (n < in.size()) {
        return fail(errc::headers_too_large,
                    "head exceeds " + std::to_string(s.max_bytes) + " bytes");
      }
      return status_;
    }
  }

  // Body of a non-101 response: up to on_message_complete, which pauses at its last byte.
  const llhttp_errno_t err = llhttp_execute(&s.parser, base + consumed, in.size() - consumed);
  if (err == HPE_PAUSED && s.message_done) {
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(&s.parser) - base);
    status_ = status::complete;
    return status_;
  }
  if (err != HPE_OK) {
    consumed = in.size();
    return fail_malformed();
  }
  consumed = in.size();
  return status_;
}

http_parser::status http_parser::finish() {
  if (status_ != status::need_more) return status_;
  auto& s = *state_;
  if (!s.head_done) {
    return fail(s.parser.type == HTTP_REQUEST ? errc::bad_request : errc::bad_response,
                "connection closed before the end of the head");
  }
  // A body without Content-Length or chunked coding runs to EOF (RFC 7230 §3.3.3 item 7).
  const llhttp_errno_t err = llhttp_finish(&s.parser);
  if (s.message_done) {
    status_ = status::complete;
    return status_;
  }
  if (err != HPE_OK) return fail_malformed();
  return fail(errc::bad_response, "connection closed before the end of the body");
}

}  // namespace wsx::detail
