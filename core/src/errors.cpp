// Error categories for wsx::errc and wsx::condition.
//
// Two std::error_category singletons: "wsx" names every errc, "wsx.condition" groups them. The
// grouping lives in one function, conditions_of(), returning a bit set because a code may belong
// to more than one condition (handshake_timeout is both a timeout and a failed handshake). The
// error category's default_error_condition() reports the primary condition; the condition
// category's equivalent() consults the whole set, so `ec == condition::handshake_failed` and
// `ec == condition::timeout` both hold for handshake_timeout. eof_without_close belongs to no
// condition: the transport ended, the peer broke no rule, no limit or deadline was involved.
// Every switch lists each enumerator without a default so -Wswitch flags a forgotten new code.
#include "wsx/errors.hpp"

#include <string>

namespace wsx {
namespace {

using condition_set = unsigned;

constexpr condition_set bit(condition c) noexcept {
  return condition_set{1} << static_cast<unsigned>(c);
}

// Every condition `e` is equivalent to; 0 for none.
condition_set conditions_of(errc e) noexcept {
  switch (e) {
    case errc::invalid_state:
    case errc::invalid_argument:
    case errc::closed:
      return bit(condition::local_misuse);
    case errc::output_limit:
      return bit(condition::resource_limit);
    case errc::bad_request:
    case errc::not_get:
    case errc::bad_http_version:
    case errc::missing_host:
    case errc::missing_upgrade:
    case errc::missing_connection_upgrade:
    case errc::bad_version:
    case errc::bad_key:
    case errc::headers_too_large:
    case errc::upgrade_rejected:
    case errc::bad_status:
    case errc::bad_response:
    case errc::bad_accept:
    case errc::bad_subprotocol:
    case errc::bad_extension:
      return bit(condition::handshake_failed);
    case errc::protocol_error:
    case errc::bad_opcode:
    case errc::reserved_bits:
    case errc::bad_masking:
    case errc::fragmented_control:
    case errc::control_too_large:
    case errc::bad_continuation:
    case errc::expected_continuation:
    case errc::bad_length:
    case errc::invalid_utf8:
    case errc::bad_close_payload:
    case errc::bad_close_code:
      return bit(condition::protocol_violation);
    case errc::frame_too_large:
    case errc::message_too_large:
    case errc::too_many_fragments:
      return bit(condition::resource_limit);
    case errc::handshake_timeout:
      return bit(condition::timeout) | bit(condition::handshake_failed);
    case errc::heartbeat_timeout:
    case errc::idle_timeout:
    case errc::write_timeout:
    case errc::close_timeout:
      return bit(condition::timeout);
    case errc::eof_without_close:
      return 0;
  }
  return 0;
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

const char* describe(errc e) noexcept {
  switch (e) {
    case errc::invalid_state:
      return "operation not allowed in the connection's current state (e.g. send after close)";
    case errc::invalid_argument:
      return "invalid argument (e.g. a close code not allowed on the wire, CR/LF in a header)";
    case errc::output_limit:
      return "buffered output would exceed config::max_buffered_output; nothing was queued";
    case errc::closed:
      return "the connection has ended; the session can no longer be used";
    case errc::bad_request:
      return "malformed HTTP upgrade request";
    case errc::not_get:
      return "upgrade request method is not GET";
    case errc::bad_http_version:
      return "upgrade request is not HTTP/1.1 or later";
    case errc::missing_host:
      return "Host header missing";
    case errc::missing_upgrade:
      return "Upgrade: websocket header missing (a proxy may have dropped it)";
    case errc::missing_connection_upgrade:
      return "Connection header lacks the \"upgrade\" token (a proxy may have dropped it)";
    case errc::bad_version:
      return "Sec-WebSocket-Version is not 13";
    case errc::bad_key:
      return "Sec-WebSocket-Key missing or not the base64 encoding of 16 bytes";
    case errc::headers_too_large:
      return "HTTP head exceeds config::max_header_bytes";
    case errc::upgrade_rejected:
      return "the application rejected the upgrade";
    case errc::bad_status:
      return "server answered the upgrade with a status other than 101";
    case errc::bad_response:
      return "malformed HTTP upgrade response";
    case errc::bad_accept:
      return "Sec-WebSocket-Accept missing or does not match the key sent";
    case errc::bad_subprotocol:
      return "server chose a subprotocol the client did not offer";
    case errc::bad_extension:
      return "server chose an extension the client did not offer";
    case errc::protocol_error:
      return "WebSocket protocol violation";
    case errc::bad_opcode:
      return "frame uses a reserved opcode";
    case errc::reserved_bits:
      return "frame sets RSV bits without a negotiated extension";
    case errc::bad_masking:
      return "frame masking is wrong for its direction (clients must mask, servers must not)";
    case errc::fragmented_control:
      return "control frame is fragmented (FIN not set)";
    case errc::control_too_large:
      return "control frame payload exceeds 125 bytes";
    case errc::bad_continuation:
      return "continuation frame without a message in progress";
    case errc::expected_continuation:
      return "new data frame while a fragmented message is in progress";
    case errc::bad_length:
      return "64-bit frame length has the most significant bit set";
    case errc::invalid_utf8:
      return "text message or close reason is not valid UTF-8";
    case errc::bad_close_payload:
      return "close frame payload is 1 byte long";
    case errc::bad_close_code:
      return "close frame carries a code not allowed on the wire";
    case errc::frame_too_large:
      return "frame payload exceeds config::max_frame_payload";
    case errc::message_too_large:
      return "message exceeds config::max_message_size";
    case errc::too_many_fragments:
      return "message has more fragments than config::max_fragments_per_message";
    case errc::handshake_timeout:
      return "opening handshake did not finish within config::handshake_timeout";
    case errc::heartbeat_timeout:
      return "no pong or other data within config::pong_timeout after a ping";
    case errc::idle_timeout:
      return "no frame received within config::idle_timeout";
    case errc::write_timeout:
      return "buffered output not consumed within config::write_timeout (peer not reading)";
    case errc::close_timeout:
      return "closing handshake did not finish within config::close_timeout";
    case errc::eof_without_close:
      return "connection ended (EOF or reset) before the closing handshake";
  }
  return "unknown wsx error";
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
  std::string message(int ev) const override { return describe(static_cast<errc>(ev)); }
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
  switch (e) {
    // RFC 6455 §7.4.1: 1002 for a protocol error.
    case errc::protocol_error:
    case errc::bad_opcode:
    case errc::reserved_bits:
    case errc::bad_masking:
    case errc::fragmented_control:
    case errc::control_too_large:
    case errc::bad_continuation:
    case errc::expected_continuation:
    case errc::bad_length:
    case errc::bad_close_payload:
    case errc::bad_close_code:
      return close_code::protocol_error;
    // RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection with 1007.
    case errc::invalid_utf8:
      return close_code::invalid_payload;
    // RFC 6455 §7.4.1: 1009 for a message too big to process.
    case errc::frame_too_large:
    case errc::message_too_large:
    case errc::too_many_fragments:
      return close_code::message_too_big;
    // RFC 6455 §7.4.1: 1001 "going away", as a server dropping an idle client does.
    case errc::idle_timeout:
      return close_code::going_away;
    // No close frame is exchanged for these: RFC 6455 §7.1.5 reports 1006 (abnormal).
    case errc::invalid_state:
    case errc::invalid_argument:
    case errc::output_limit:
    case errc::closed:
    case errc::bad_request:
    case errc::not_get:
    case errc::bad_http_version:
    case errc::missing_host:
    case errc::missing_upgrade:
    case errc::missing_connection_upgrade:
    case errc::bad_version:
    case errc::bad_key:
    case errc::headers_too_large:
    case errc::upgrade_rejected:
    case errc::bad_status:
    case errc::bad_response:
    case errc::bad_accept:
    case errc::bad_subprotocol:
    case errc::bad_extension:
    case errc::handshake_timeout:
    case errc::heartbeat_timeout:
    case errc::write_timeout:
    case errc::close_timeout:
    case errc::eof_without_close:
      return close_code::abnormal;
  }
  return close_code::abnormal;
}

int to_http_status(errc e) noexcept {
  switch (e) {
    case errc::bad_request:
    case errc::bad_http_version:
    case errc::missing_host:
    case errc::bad_key:
      return 400;
    case errc::not_get:
      return 405;
    // RFC 6455 §4.4: a version mismatch is answered with 426 Upgrade Required; a request
    // missing the upgrade headers is not an upgrade at all, and 426 tells the client so.
    case errc::missing_upgrade:
    case errc::missing_connection_upgrade:
    case errc::bad_version:
      return 426;
    // RFC 6585 §5: Request Header Fields Too Large.
    case errc::headers_too_large:
      return 431;
    case errc::invalid_state:
    case errc::invalid_argument:
    case errc::output_limit:
    case errc::closed:
    case errc::upgrade_rejected:
    case errc::bad_status:
    case errc::bad_response:
    case errc::bad_accept:
    case errc::bad_subprotocol:
    case errc::bad_extension:
    case errc::protocol_error:
    case errc::bad_opcode:
    case errc::reserved_bits:
    case errc::bad_masking:
    case errc::fragmented_control:
    case errc::control_too_large:
    case errc::bad_continuation:
    case errc::expected_continuation:
    case errc::bad_length:
    case errc::invalid_utf8:
    case errc::bad_close_payload:
    case errc::bad_close_code:
    case errc::frame_too_large:
    case errc::message_too_large:
    case errc::too_many_fragments:
    case errc::handshake_timeout:
    case errc::heartbeat_timeout:
    case errc::idle_timeout:
    case errc::write_timeout:
    case errc::close_timeout:
    case errc::eof_without_close:
      return 0;
  }
  return 0;
}

}  // namespace wsx
