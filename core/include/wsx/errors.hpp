// Errors: one enum for every failure the core can report, a category that names them, and
// portable conditions so callers can test "was this a protocol violation?" without listing codes.
#pragma once

#include <cstdint>
#include <system_error>

#include "wsx/types.hpp"

namespace wsx {

enum class errc {
  // local misuse: the call changed nothing
  invalid_state = 1,    // e.g. send() after close(), accept() twice, accept() on a client
  invalid_argument,     // e.g. a subprotocol the client did not offer, a bad close code
  output_limit,         // send() would exceed config::max_buffered_output (backpressure)
  closed,               // the connection has ended (used by transports' session handles)
  // server handshake: the request was refused (the HTTP status is in the comment)
  bad_request,          // 400: malformed HTTP request
  not_get,              // 405: method is not GET
  bad_http_version,     // 400: not HTTP/1.1 or later
  missing_host,         // 400: no Host header
  missing_upgrade,      // 426: no "Upgrade: websocket" (often a proxy dropped it)
  missing_connection_upgrade,  // 426: no "upgrade" token in Connection
  bad_version,          // 426: Sec-WebSocket-Version is not 13
  bad_key,              // 400: Sec-WebSocket-Key missing or not base64 of 16 bytes
  upgrade_with_body,    // 400: Content-Length > 0 or Transfer-Encoding on an upgrade request
  headers_too_large,    // 431: request head exceeds config::max_header_bytes
  upgrade_rejected,     // the application called reject() (status chosen by the application)
  // client handshake: the server's response was refused
  bad_status,           // the server answered with something other than 101
  bad_response,         // malformed HTTP response
  bad_accept,           // Sec-WebSocket-Accept missing or wrong
  bad_subprotocol,      // server chose a subprotocol the client did not offer
  bad_extension,        // server chose an extension the client did not offer
  bad_deflate_answer,   // server's permessage-deflate answer is invalid (client sends 1010)
  // frames (RFC 6455 §5)
  protocol_error,       // generic framing violation (1002)
  bad_opcode,           // reserved opcode (1002)
  reserved_bits,        // RSV1-3 set without a negotiated extension (1002)
  bad_masking,          // unmasked client frame or masked server frame (1002)
  fragmented_control,   // control frame without FIN (1002)
  control_too_large,    // control frame payload > 125 (1002)
  bad_continuation,     // continuation without a message in progress (1002)
  expected_continuation,  // new data frame while a fragmented message is in progress (1002)
  bad_length,           // 64-bit length with the top bit set (1002)
  invalid_utf8,         // text message or close reason not UTF-8 (1007)
  bad_close_payload,    // close payload of 1 byte (1002)
  bad_close_code,       // close code not allowed on the wire (1002)
  frame_too_large,      // frame payload > config::max_frame_payload (1009)
  message_too_large,    // message > config::max_message_size (1009)
  too_many_fragments,   // fragments > config::max_fragments_per_message (1009)
  // permessage-deflate (RFC 7692)
  bad_rsv1,             // RSV1 on a control or continuation frame (1002)
  bad_compressed_data,  // a compressed message is not valid DEFLATE data (1007)
  inflated_too_large,   // a message inflates past config::max_message_size (1009)
  compression_failed,   // zlib could not set up or run a stream (out of memory) (1011)
  // deadlines
  handshake_timeout,    // the opening handshake did not finish in time
  heartbeat_timeout,    // no pong (or any data) within pong_timeout after a ping
  idle_timeout,         // nothing received for idle_timeout
  write_timeout,        // buffered output did not shrink for write_timeout
  close_timeout,        // the closing handshake did not finish in time
  // transport-level ending seen by the core
  eof_without_close,    // TCP EOF (or reset) before the closing handshake (1006)
};

// Portable groupings of errc values (std::error_condition).
enum class condition {
  protocol_violation = 1,  // the peer broke RFC 6455
  handshake_failed,        // the opening handshake did not complete
  resource_limit,          // a configured limit was hit
  timeout,                 // a deadline fired
  local_misuse,            // the caller used the API wrongly; nothing changed
};

const std::error_category& error_category() noexcept;
const std::error_category& condition_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

// The close code the core sends (or reports, for 1006) when it fails a connection for `e`.
// Handshake and misuse errors, which never produce a close frame, map to 1006 (abnormal).
close_code to_close_code(errc e) noexcept;

// The HTTP status a server answers with for a handshake error `e`; 0 when `e` is not one.
int to_http_status(errc e) noexcept;

}  // namespace wsx

namespace std {
template <>
struct is_error_code_enum<wsx::errc> : true_type {};
template <>
struct is_error_condition_enum<wsx::condition> : true_type {};
}  // namespace std
