// Events the core reports. They are pulled with connection::next_event(); nothing calls back
// into user code. A span or string_view inside an event stays valid until the next non-const call
// on the connection that produced it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "wsx/types.hpp"

namespace wsx {

// Server only: a syntactically valid RFC 6455 upgrade request. Answer with accept() or reject()
// (possibly later, before config::handshake_timeout).
struct upgrade_request {
  std::string method;
  std::string target;  // as sent: path plus optional "?query"
  std::string path;
  std::string query;   // without the '?'
  std::vector<header_field> headers;     // in order, names as sent
  std::vector<std::string> subprotocols; // Sec-WebSocket-Protocol tokens, in offer order
  std::vector<std::string> extensions;   // Sec-WebSocket-Extensions offers, one string each

  // Value of the first header named `name` (case-insensitive), if present.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

// Server only, with config::plain_http: a request with no Upgrade header (any method). Answer
// with connection::respond() (or reject()); to a HEAD request they send the head only. Fields as
// in upgrade_request; no subprotocols/extensions. A body the request has is not read.
struct http_request : upgrade_request {};

// The opening handshake finished: data may flow.
struct opened {
  std::string subprotocol;                // empty if none was agreed
  std::vector<std::string> extensions;    // the agreed Sec-WebSocket-Extensions value, if any
  std::vector<header_field> headers;      // client: the 101 response headers; server: empty
};

// The opening handshake failed. Server: the status sent and the one-line reason in its body.
// Client: the status, headers and body the server sent, or status 0 if no valid response came.
struct rejected {
  std::error_code ec;
  int status = 0;
  std::string reason;
  std::vector<header_field> headers;
  std::string body;
};

// Part of a data message (config::delivery == chunks). `first` starts a message, `last` ends it;
// a message may arrive as any number of chunks, including empty ones.
struct message_chunk {
  message_kind kind;
  bool first;
  bool last;
  bytes_view payload;
};

// A whole data message (config::delivery == whole_messages). Text is valid UTF-8.
struct message {
  message_kind kind;
  bytes_view payload;
};

struct ping_received {
  bytes_view payload;  // the core has already queued the pong
};

struct pong_received {
  bytes_view payload;
};

// The peer sent a close frame. If we had not sent one, the core has queued the echo.
struct close_received {
  close_code code;          // close_code::no_status when the frame had no payload
  std::string_view reason;
};

// Terminal, exactly once. clean: both close frames were exchanged. initiated_locally: this side
// sent its close frame first (or failed the connection). ec: why it ended, empty for a normal
// closing handshake started by either side.
struct closed {
  close_code code;
  std::string reason;
  bool clean;
  bool initiated_locally;
  std::error_code ec;
};

using event = std::variant<upgrade_request, http_request, opened, rejected, message_chunk, message,
                           ping_received, pong_received, close_received, closed>;

}  // namespace wsx
