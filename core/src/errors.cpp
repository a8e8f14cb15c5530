// Error categories for wsx::errc and wsx::condition.
//
// Everything the core says about a code is one row of `codes`: its message, the conditions it
// belongs to, the close code a connection failing for it sends (or reports, 1006), and the HTTP
// status a server refuses an upgrade with. Rows are in enum order, so a code's row is found by
// its value; static_asserts check the order and that every code up to the last has a row. The
// conditions are a bit set because a code may belong to more than one (handshake_timeout is a
// timeout and a failed handshake): the error category's default_error_condition() reports the
// first of them in enum order, and the condition category's equivalent() consults the whole
// set, so `ec == condition::handshake_failed` and `ec == condition::timeout` both hold for it.
#include "wsx/errors.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace wsx {
namespace {

using condition_set = unsigned;

constexpr condition_set bit(condition c) noexcept {
  return condition_set{1} << static_cast<unsigned>(c);
}

struct code_row {
  errc code;
  condition_set conditions;  // every condition the code is equivalent to (none: no condition)
  close_code close;
  int http_status;  // 0: not a refused upgrade request
  const char* message;
};

constexpr condition_set none = 0;
constexpr condition_set misuse = bit(condition::local_misuse);
constexpr condition_set limit = bit(condition::resource_limit);
constexpr condition_set handshake = bit(condition::handshake_failed);
constexpr condition_set protocol = bit(condition::protocol_violation);
constexpr condition_set timeout = bit(condition::timeout);
constexpr close_code abnormal = close_code::abnormal;
constexpr close_code c1001 = close_code::going_away;
constexpr close_code c1002 = close_code::protocol_error;
constexpr close_code c1007 = close_code::invalid_payload;
constexpr close_code c1009 = close_code::message_too_big;
constexpr close_code c1010 = close_code::mandatory_extension;
constexpr close_code c1011 = close_code::internal_error;

constexpr code_row codes[] = {
    // Calls refused: nothing changed, no close frame is exchanged (RFC 6455 §7.1.5: 1006).
    {errc::invalid_state, misuse, abnormal, 0,
     "operation not allowed in the connection's current state (e.g. send after close)"},
    {errc::invalid_argument, misuse, abnormal, 0,
     "invalid argument (e.g. a close code not allowed on the wire, CR/LF in a header)"},
    {errc::output_limit, limit, abnormal, 0,
     "buffered output would exceed config::max_buffered_output; nothing was queued"},
    {errc::closed, misuse, abnormal, 0,
     "the connection has ended; the session can no longer be used"},
    // Server handshake. RFC 6455 §4.4: a version mismatch is answered with 426 Upgrade Required;
    // a request missing the upgrade headers is not an upgrade at all, and 426 tells the client so.
    // RFC 6585 §5: 431 Request Header Fields Too Large.
    {errc::bad_request, handshake, abnormal, 400, "malformed HTTP upgrade request"},
    {errc::not_get, handshake, abnormal, 405, "upgrade request method is not GET"},
    {errc::bad_http_version, handshake, abnormal, 400, "upgrade request is not HTTP/1.1 or later"},
    {errc::missing_host, handshake, abnormal, 400, "Host header missing"},
    {errc::missing_upgrade, handshake, abnormal, 426,
     "Upgrade: websocket header missing (a proxy may have dropped it)"},
    {errc::missing_connection_upgrade, handshake, abnormal, 426,
     "Connection header lacks the \"upgrade\" token (a proxy may have dropped it)"},
    {errc::bad_version, handshake, abnormal, 426, "Sec-WebSocket-Version is not 13"},
    {errc::bad_key, handshake, abnormal, 400,
     "Sec-WebSocket-Key missing or not the base64 encoding of 16 bytes"},
    {errc::upgrade_with_body, handshake, abnormal, 400,
     "upgrade request has a body (Content-Length or Transfer-Encoding)"},
    {errc::headers_too_large, handshake, abnormal, 431,
     "HTTP head exceeds config::max_header_bytes"},
    {errc::upgrade_rejected, handshake, abnormal, 0, "the application rejected the upgrade"},
    // Client handshake: the server's response was refused.
    {errc::bad_status, handshake, abnormal, 0,
     "server answered the upgrade with a status other than 101"},
    {errc::bad_response, handshake, abnormal, 0, "malformed HTTP upgrade response"},
    {errc::bad_accept, handshake, abnormal, 0,
     "Sec-WebSocket-Accept missing or does not match the key sent"},
    {errc::bad_subprotocol, handshake, abnormal, 0,
     "server chose a subprotocol the client did not offer"},
    {errc::bad_extension, handshake, abnormal, 0,
     "server chose an extension the client did not offer"},
    // RFC 7692 §5 / RFC 6455 §7.4.1: a client that expected the server to agree an extension
    // properly fails the connection with 1010 (its reason names the parameter).
    {errc::bad_deflate_answer, handshake, c1010, 0,
     "server's permessage-deflate answer is invalid (RFC 7692 §7.1)"},
    // Frames. RFC 6455 §7.4.1: 1002 for a protocol error; §8.1: 1007 for invalid UTF-8.
    {errc::protocol_error, protocol, c1002, 0, "WebSocket protocol violation"},
    {errc::bad_opcode, protocol, c1002, 0, "frame uses a reserved opcode"},
    {errc::reserved_bits, protocol, c1002, 0, "frame sets RSV bits without a negotiated extension"},
    {errc::bad_masking, protocol, c1002, 0,
     "frame masking is wrong for its direction (clients must mask, servers must not)"},
    {errc::fragmented_control, protocol, c1002, 0, "control frame is fragmented (FIN not set)"},
    {errc::control_too_large, protocol, c1002, 0, "control frame payload exceeds 125 bytes"},
    {errc::bad_continuation, protocol, c1002, 0,
     "continuation frame without a message in progress"},
    {errc::expected_continuation, protocol, c1002, 0,
     "new data frame while a fragmented message is in progress"},
    {errc::bad_length, protocol, c1002, 0, "64-bit frame length has the most significant bit set"},
    {errc::invalid_utf8, protocol, c1007, 0, "text message or close reason is not valid UTF-8"},
    {errc::bad_close_payload, protocol, c1002, 0, "close frame payload is 1 byte long"},
    {errc::bad_close_code, protocol, c1002, 0,
     "close frame carries a code not allowed on the wire"},
    // RFC 6455 §7.4.1: 1009 for a message too big to process.
    {errc::frame_too_large, limit, c1009, 0, "frame payload exceeds config::max_frame_payload"},
    {errc::message_too_large, limit, c1009, 0, "message exceeds config::max_message_size"},
    {errc::too_many_fragments, limit, c1009, 0,
     "message has more fragments than config::max_fragments_per_message"},
    // permessage-deflate. RFC 7692 §6.1: RSV1 marks the first frame of a compressed message
    // only; inflating past the message limit is 1009 like any too-big message; zlib running out
    // of memory is this side's fault (1011).
    {errc::bad_rsv1, protocol, c1002, 0,
     "RSV1 (compressed) set on a control or continuation frame (RFC 7692 §6.1)"},
    {errc::bad_compressed_data, protocol, c1007, 0,
     "compressed message is not valid DEFLATE data (RFC 7692 §6.2)"},
    {errc::inflated_too_large, limit, c1009, 0,
     "compressed message inflates past config::max_message_size"},
    {errc::compression_failed, limit, c1011, 0,
     "zlib could not allocate or run a compression stream"},
    // Deadlines. handshake_timeout is both a timeout and a failed handshake; the idle timeout
    // closes with 1001 "going away" (RFC 6455 §7.4.1), as a server dropping an idle client does.
    {errc::handshake_timeout, timeout | handshake, abnormal, 0,
     "opening handshake did not finish within config::handshake_timeout"},
    {errc::heartbeat_timeout, timeout, abnormal, 0,
     "no pong or other data within config::pong_timeout after a ping"},
    {errc::idle_timeout, timeout, c1001, 0, "no frame received within config::idle_timeout"},
    {errc::write_timeout, timeout, abnormal, 0,
     "buffered output not consumed within config::write_timeout (peer not reading)"},
    {errc::close_timeout, timeout, abnormal, 0,
     "closing handshake did not finish within config::close_timeout"},
    // The transport ended: the peer broke no rule, no limit or deadline was involved.
    {errc::eof_without_close, none, abnormal, 0,
     "connection ended (EOF or reset) before the closing handshake"},
};

constexpr bool rows_in_enum_order() noexcept {
  for (std::size_t i = 0; i < std::size(codes); ++i) {
    if (static_cast<std::size_t>(codes[i].code) != i + 1) return false;
  }
  return true;
}
static_assert(rows_in_enum_order(), "one row per errc, in enum order, from 1");
static_assert(std::size(codes) == static_cast<std::size_t>(errc::eof_without_close),
              "every errc up to the last one (eof_without_close) has a row");

// The row of `e`; nullptr for a value that is no errc.
constexpr const code_row* row(errc e) noexcept {
  const auto v = static_cast<std::size_t>(e);
  return v >= 1 && v <= std::size(codes) ? &codes[v - 1] : nullptr;
}

condition_set conditions_of(errc e) noexcept {
  const code_row* r = row(e);
  return r ? r->conditions : none;
}

// The one condition default_error_condition() reports; for a code in several, the first of them
// in enum order (handshake_timeout: handshake_failed).
int primary_condition(errc e) noexcept {
  const condition_set set = conditions_of(e);
  for (int c = static_cast<int>(condition::protocol_violation);
       c <= static_cast<int>(condition::local_misuse); ++c) {
    if ((set & bit(static_cast<condition>(c))) != 0) return c;
  }
  return 0;
}

const char* describe(condition c) noexcept {
  switch (c) {
    case condition::protocol_violation:
      return "the peer violated the WebSocket protocol";
    case condition::handshake_failed:
      return "the opening handshake failed";
    case condition::resource_limit:
      return "a configured limit was reached";
    case condition::timeout:
      return "a deadline expired";
    case condition::local_misuse:
      return "the API was used in a way the connection does not allow";
  }
  return "unknown wsx condition";
}

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wsx"; }
  std::string message(int ev) const override {
    const code_row* r = row(static_cast<errc>(ev));
    return r ? r->message : "unknown wsx error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    const int c = primary_condition(static_cast<errc>(ev));
    if (c == 0) return {ev, *this};
    return {c, condition_category()};
  }
};

class condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wsx.condition"; }
  std::string message(int ev) const override { return describe(static_cast<condition>(ev)); }
  bool equivalent(const std::error_code& code, int cond) const noexcept override {
    if (code.category() != wsx::error_category()) return false;
    if (cond < static_cast<int>(condition::protocol_violation) ||
        cond > static_cast<int>(condition::local_misuse)) {
      return false;
    }
    return (conditions_of(static_cast<errc>(code.value())) & bit(static_cast<condition>(cond))) !=
           0;
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

close_code to_close_code(errc e) noexcept {
  const code_row* r = row(e);
  return r ? r->close : abnormal;
}

int to_http_status(errc e) noexcept {
  const code_row* r = row(e);
  return r ? r->http_status : 0;
}

}  // namespace wsx
