// wsx::connection: one WebSocket connection as a sans-IO state machine, for both roles.
//
// Bytes in (receive), events out (next_event), bytes to send pulled out (pending_output /
// consume_output), time passed in (every call takes `now`; next_deadline / on_timer). The
// connection never touches a socket, a clock, a thread or a lock, so it embeds in any loop.
// See docs/core.md for the pump loop every embedder writes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wsx/config.hpp"
#include "wsx/errors.hpp"
#include "wsx/events.hpp"
#include "wsx/shared_message.hpp"
#include "wsx/types.hpp"

namespace wsx {

// How a server answers an upgrade_request.
struct accept_options {
  std::string subprotocol;                  // empty, or one of upgrade_request::subprotocols
  std::vector<header_field> extra_headers;  // added to the 101 response as given
};

// What a client puts in its upgrade request.
struct client_options {
  std::string host;                         // Host header value, with ":port" if not default
  std::string target = "/";                 // path plus optional "?query"
  std::string origin;                       // Origin header; omitted when empty
  std::vector<std::string> subprotocols;    // offered in Sec-WebSocket-Protocol, in order
  std::vector<header_field> extra_headers;  // added to the request as given
};

// The bytes waiting to be written, as a list of ranges for one writev()/async_write(). Valid
// until the next non-const call on the connection.
class output_view {
 public:
  output_view() = default;
  output_view(const bytes_view* data, std::size_t count, std::size_t total) noexcept
      : data_(data), count_(count), total_(total) {}
  const bytes_view* begin() const noexcept { return data_; }
  const bytes_view* end() const noexcept { return data_ + count_; }
  std::size_t size() const noexcept { return count_; }  // number of ranges
  bool empty() const noexcept { return count_ == 0; }
  const bytes_view& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::size_t total_bytes() const noexcept { return total_; }  // bytes in these ranges

 private:
  const bytes_view* data_ = nullptr;
  std::size_t count_ = 0;
  std::size_t total_ = 0;
};

class connection {
 public:
  // A server starts waiting for the upgrade request. A client must call connect() next.
  // The handshake deadline starts at `now`.
  connection(role r, const config& cfg, time_point now);
  // The same, sharing one config between connections instead of copying it into each (a server
  // with many idle connections). `cfg` (not null) must not change while a connection uses it.
  static connection with_shared_config(role r, std::shared_ptr<const config> cfg, time_point now);
  ~connection();
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Client only: queues the upgrade request (with a fresh random Sec-WebSocket-Key).
  // Returns errc::invalid_state on a server or when called twice, errc::invalid_argument when
  // opts.host is empty, the target does not start with '/' or holds a space or a control
  // character, a subprotocol or header name is not a token, a header value (host and origin too)
  // holds a control character other than HTAB (RFC 9110 §5.5: CR, LF, NUL, 0x01-0x1F, DEL), or an
  // extra header restates what the request writes itself (Host, Upgrade, Connection, Origin,
  // Sec-WebSocket-Key/-Version/-Protocol/-Extensions, Content-Length, Transfer-Encoding: use the
  // fields of client_options). On error nothing is queued.
  std::error_code connect(const client_options& opts, time_point now);

  // ---- input -------------------------------------------------------------------------------
  // Takes all of `in`; the caller may reuse its buffer when this returns. Events it produces are
  // pulled with next_event(), which must be drained after every receive(). Returns the sticky
  // error once the connection has failed (see the `closed` event for the whole story), otherwise
  // an empty code. After the connection is closed, input is ignored.
  std::error_code receive(bytes_view in, time_point now);
  // The same without copying `in` first, for a transport that reads into a buffer of its own:
  // an open connection with nothing left over from earlier input decodes the frames where they
  // are, unmasking payloads in place (so `in` is modified), and the payload spans of the events
  // point into `in`. `in` must stay valid and untouched by anyone else until release_input().
  // Otherwise (the handshake, a partial frame kept from before) it copies, as receive() does.
  std::error_code receive_in_place(std::span<std::byte> in, time_point now);
  // Ends receive_in_place()'s use of the caller's buffer: whatever the connection still needs
  // from it (the head of a frame cut short, bytes behind an unanswered upgrade, events not
  // pulled yet) is copied into the connection. Call it after draining next_event() and before
  // the buffer is reused; with nothing borrowed it does nothing. Invalidates the spans of events
  // already pulled, like any non-const call; events not pulled yet stay whole.
  void release_input();
  // The peer closed its side of TCP (or the socket failed). Ends the connection: clean if the
  // closing handshake had finished, else closed{1006, errc::eof_without_close}.
  void receive_eof(time_point now);

  // ---- events ------------------------------------------------------------------------------
  // The next event, or nullopt when there is none for now. Spans inside the event stay valid
  // until the next non-const call on this connection.
  std::optional<event> next_event();

  // ---- server side of the upgrade ------------------------------------------------------------
  // Headers you pass to accept(), reject() and respond() must each have a token name (RFC 9110
  // §5.6.2) and a value without control characters other than HTAB (§5.5: no CR, LF, NUL,
  // 0x01-0x1F, DEL), and must not restate a header the core writes itself or that frames the
  // message: Content-Length, Transfer-Encoding and Connection never (names compare
  // case-insensitively). Otherwise the call returns errc::invalid_argument, queues nothing and
  // changes nothing: fix the argument and call again.
  //
  // Answer an upgrade_request with 101. errc::invalid_state when no request is waiting (client,
  // already answered, closed); errc::invalid_argument when opts.subprotocol was not offered or
  // an extra header breaks the rules above, which for a 101 also refuse Upgrade,
  // Sec-WebSocket-Accept and Sec-WebSocket-Protocol (choose it with opts.subprotocol), and
  // Sec-WebSocket-Extensions when permessage-deflate was agreed (config::deflate: the core
  // answers the offer itself). Emits `opened`, whose `extensions` holds what was agreed.
  std::error_code accept(const accept_options& opts, time_point now);
  // Refuse the upgrade (or an http_request) with `http_status` (400-599) and a one-line `reason`
  // sent as a text/plain body. Emits `rejected` (errc::upgrade_rejected) and `closed`; the
  // transport then closes TCP once the output is written. errc::invalid_state as for accept();
  // errc::invalid_argument for a status out of range or an extra header that breaks the rules
  // above, which here also refuse Content-Type (the core writes text/plain).
  std::error_code reject(int http_status, std::string_view reason, time_point now,
                         std::span<const header_field> extra_headers = {});

  // Answer an http_request (config::plain_http) with a final `status` (200-599), `headers` (name
  // the Content-Type yourself) and `body`; the core adds Content-Length (except for 204 and 304,
  // which carry neither Content-Length nor body) and Connection: close; to a HEAD request the
  // answer stops after the head (RFC 9110 §9.3.2), keeping that Content-Length. The connection
  // then ends and the transport closes TCP once the output is written. errc::invalid_state when no
  // http_request is waiting; errc::invalid_argument, with nothing queued and the request still
  // waiting, for a status outside 200-599 (1xx are interim, never an answer), a non-empty body
  // with 204 or 304, or a header that breaks the rules above.
  std::error_code respond(int status, std::span<const header_field> headers, std::string_view body,
                          time_point now);

  // ---- sending -----------------------------------------------------------------------------
  // Queue a data frame (op text/binary to start a message, continuation to go on with it; fin
  // ends the message). Text payloads are not validated: sending valid UTF-8 is the caller's job.
  // errc::invalid_state: not open, close already sent, the fragmentation sequence is wrong
  // (continuation without a start, new message while one is unfinished), or (client) the random
  // generator failed to give a mask key; errc::invalid_argument: op is a control opcode;
  // errc::output_limit: buffered_amount() would pass config::max_buffered_output (nothing
  // queued: slow down). Nothing is queued on error, not even the fragments auto_fragment_size
  // cut before the one that failed.
  std::error_code send(opcode op, bytes_view payload, bool fin, time_point now);
  // Convenience: one whole message.
  std::error_code send_text(std::string_view text, time_point now) {
    return send(opcode::text, as_bytes(text), true, now);
  }
  std::error_code send_binary(bytes_view data, time_point now) {
    return send(opcode::binary, data, true, now);
  }
  // Server only: queue a whole message encoded once by shared_message::make(), without copying
  // its bytes (they stay shared until written). Same errors as send(); errc::invalid_state on a
  // client (client frames need a fresh mask each) or while a fragmented send is unfinished.
  std::error_code send_shared(const shared_message& msg, time_point now);
  // Queue a ping (payload <= 125 bytes, else errc::invalid_argument). errc::invalid_state when
  // not open or after a close was sent; errc::output_limit as for send().
  std::error_code ping(bytes_view payload, time_point now);
  // Queue a pong (unsolicited heartbeat). Same errors as ping().
  std::error_code pong(bytes_view payload, time_point now);
  // Start the closing handshake. `code` must be valid on the wire (1000-1003, 1007-1014,
  // 3000-4999) and `reason` at most 123 bytes of UTF-8, else errc::invalid_argument.
  // errc::invalid_state after a close was already sent or before the connection is open
  // (use reject() to refuse an upgrade), or (client) when the random generator failed to give a
  // mask key: then nothing is queued and the connection stays open. Starts the close deadline.
  std::error_code close(close_code code, std::string_view reason, time_point now);

  // ---- output ------------------------------------------------------------------------------
  // Bytes waiting for the socket, as ranges in order. Stable until the next non-const call:
  // appending never moves bytes already exposed, so these ranges can be in flight in one
  // writev/async_write while the app keeps calling send() — but do consume_output() only with
  // the count actually written, and take a fresh pending_output() after it.
  output_view pending_output() const noexcept;
  // `n` bytes from the front of pending_output() were written. n <= buffered_amount(). When a
  // deadline (write, handshake, heartbeat, close) fails the connection, the queued output is
  // dropped (buffered_amount() becomes 0) but its bytes stay valid until the next
  // consume_output(), so a write still in flight is never left pointing at freed memory: report
  // its completion with consume_output(n) as usual (any n; 0 is fine).
  void consume_output(std::size_t n, time_point now) noexcept;
  // Bytes queued and not yet consumed.
  std::size_t buffered_amount() const noexcept;
  // Free what is kept for reuse (call when the connection goes quiet to cut idle memory). An
  // open connection between two messages (everything read, every event pulled, no frame or
  // message half received, nothing queued) drops its whole working state: frame decoder, input,
  // event and assembly buffers, output queue; the next input or send allocates it afresh and
  // carries on the same. Otherwise it frees the input and event buffers when everything was
  // read, and the output's block list when nothing is queued (the blocks themselves go back to
  // a per-thread pool as soon as they are consumed).
  void shrink_to_fit() noexcept;

  // ---- time --------------------------------------------------------------------------------
  // The earliest armed deadline, or nullopt when none is armed (then no timer is needed).
  std::optional<time_point> next_deadline() const noexcept;
  // Fires every deadline that is due at `now`. Harmless when called early or repeatedly.
  void on_timer(time_point now);

  // ---- state -------------------------------------------------------------------------------
  connection_state state() const noexcept;
  role get_role() const noexcept;
  // True while the transport should keep reading (false once closed).
  bool wants_read() const noexcept;
  // True when output is waiting.
  bool wants_write() const noexcept;
  // True when the transport should close TCP once the pending output is written: the connection
  // is closed (server: right after the closing handshake; client: when the server's FIN came or
  // the close deadline passed).
  bool should_close_transport() const noexcept;

 private:
  struct impl;
  explicit connection(std::unique_ptr<impl> i) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace wsx
