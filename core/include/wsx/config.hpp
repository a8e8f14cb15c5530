// Limits and deadlines of one connection. Every field has a documented default; a zero duration
// switches that deadline off.
#pragma once

#include <chrono>
#include <cstddef>

#include "wsx/types.hpp"

namespace wsx {

// permessage-deflate (RFC 7692), off unless `enabled`. docs/deflate.md has the whole story: what
// is offered and accepted, what the budget buys, the limits and the memory figures.
struct deflate_options {
  // Client: offer permessage-deflate. Server: accept the first acceptable offer.
  bool enabled = false;
  // Bytes of zlib state (compressor + decompressor, at their peak while a message passes) this
  // connection may use. The server picks the window bits and memLevel of both directions from it
  // (as far as the client's offer lets it); a client asks for a smaller server window when its
  // decompressor would not fit. An offer that cannot fit at all is declined.
  std::size_t memory_budget = 128 * 1024;
  // Messages shorter than this many bytes leave uncompressed (RSV1 clear).
  std::size_t threshold = 64;
  // zlib compression level, 1 (fastest) to 9 (smallest).
  int level = 6;
  // This side resets its compressor after every message (server: server_no_context_takeover in
  // the answer; client: client_no_context_takeover in the offer). Costs ratio, frees the
  // compressor between messages.
  bool no_context_takeover = false;
  // Ask the peer to reset its compressor after every message (server: client_no_context_takeover
  // in the answer; client: server_no_context_takeover in the offer), so that this side's
  // decompressor is freed between messages too.
  bool peer_no_context_takeover = false;
};

struct config {
  // ---- limits --------------------------------------------------------------------------------
  // Bytes of the HTTP request/response head (request line + headers). Over it: 431 (server) or
  // errc::headers_too_large (client).
  std::size_t max_header_bytes = 16 * 1024;
  // Payload of a single frame. Over it: close 1009, errc::frame_too_large.
  std::size_t max_frame_payload = 16 * 1024 * 1024;
  // Payload of a whole message (all fragments). Over it: close 1009, errc::message_too_large.
  std::size_t max_message_size = 16 * 1024 * 1024;
  // Frames in one message. Over it: close 1009, errc::too_many_fragments.
  std::size_t max_fragments_per_message = 128 * 1024;
  // Bytes queued for the socket. send()/ping() that would exceed it return errc::output_limit
  // and queue nothing: the backpressure signal. Control replies (pong, close) are always queued.
  std::size_t max_buffered_output = 64 * 1024 * 1024;

  // ---- plain HTTP ----------------------------------------------------------------------------
  // Server: when true, a request without any Upgrade header (a browser asking for a page, a
  // health check), of any method and HTTP/1.0 or 1.1, is reported as an http_request event for
  // connection::respond(), instead of being answered 426 or 405 by the core.
  bool plain_http = false;

  // ---- delivery ------------------------------------------------------------------------------
  // chunks: message_chunk events as bytes arrive (no assembly copy). whole_messages: one
  // message event per message, assembled by the core up to max_message_size.
  wsx::delivery delivery = wsx::delivery::chunks;
  // When non-zero, send() splits payloads larger than this into frames of at most this size.
  std::size_t auto_fragment_size = 0;

  // ---- extensions ----------------------------------------------------------------------------
  // permessage-deflate; max_message_size also bounds every message's inflated size.
  deflate_options deflate;

  // ---- deadlines (all measured with the `now` the caller passes in) ---------------------------
  // From construction until the upgrade completes (server: request parsed and answered; client:
  // 101 received). Fires errc::handshake_timeout; a server sends nothing more and closes TCP.
  duration handshake_timeout = std::chrono::seconds(10);
  // When open and nothing was sent or received for this long, send a ping. 0 = no heartbeat.
  duration ping_interval = std::chrono::seconds(30);
  // After a heartbeat ping, if neither a pong nor any other byte arrives within this long, the
  // connection fails: closed{1006, errc::heartbeat_timeout}.
  duration pong_timeout = std::chrono::seconds(10);
  // When open and no frame arrived for this long, close with 1001 (errc::idle_timeout).
  // 0 = off. Pongs count as frames, so with a heartbeat a live peer never goes idle.
  duration idle_timeout = duration::zero();
  // When output is buffered and none of it was consumed for this long, the peer is not reading:
  // fail with errc::write_timeout (1006).
  duration write_timeout = std::chrono::seconds(30);
  // After a close frame is sent or received, how long to wait for the closing handshake to
  // finish (and, for a client, for the server's TCP FIN). Then errc::close_timeout.
  duration close_timeout = std::chrono::seconds(5);
};

}  // namespace wsx
