// The HTTP/1.1 upgrade (RFC 6455 §4): parsing heads with llhttp, the server's checks of a
// request, the client's checks of a response, building both sides' messages, and
// opening_handshake, which drives all of that for one connection and tells it what happened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "detail/deflate_negotiation.hpp"
#include "detail/http_fields.hpp"
#include "wsx/config.hpp"
#include "wsx/connection.hpp"
#include "wsx/errors.hpp"
#include "wsx/events.hpp"

namespace wsx::detail {

// A parsed request or response head (and, for a non-101 response, its body).
struct http_head {
  std::string method;         // request
  std::string target;         // request
  int status = 0;             // response
  std::string reason_phrase;  // response
  int version_major = 0;
  int version_minor = 0;
  std::vector<header_field> headers;
  std::string body;  // response only, non-101, truncated to the header limit

  // First header named `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

// Incremental parser over llhttp. A request is complete at the end of its head. A 101 response
// is complete at the end of its head; any other response once its body has been read (by
// Content-Length, chunked coding, or EOF via finish()).
class http_parser {
 public:
  enum class kind { request, response };
  enum class status { need_more, complete, error };

  http_parser(kind k, std::size_t max_header_bytes);
  ~http_parser();
  http_parser(const http_parser&) = delete;
  http_parser& operator=(const http_parser&) = delete;

  // Consumes bytes of `in` up to the end of the message and sets `consumed` to that count: the
  // bytes after it (in.subspan(consumed)) are WebSocket frames for the caller. After complete or
  // error, further calls return the same status and consume nothing.
  status feed(bytes_view in, std::size_t& consumed);
  // The peer closed the connection: completes a response whose body runs to EOF.
  status finish();
  // After error: errc::headers_too_large (head over the limit) or errc::bad_request (request) /
  // errc::bad_response (response), plus a short description of what llhttp rejected.
  errc error() const noexcept { return error_; }
  const std::string& error_detail() const noexcept { return error_detail_; }
  const http_head& head() const noexcept { return head_; }

 private:
  struct state;
  status fail(errc ec, std::string detail);
  status fail_malformed();
  status fail_malformed(const char* reason);

  std::unique_ptr<state> state_;
  http_head head_;
  status status_ = status::need_more;
  errc error_{};
  std::string error_detail_;
};

// RFC 6455 §4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view client_key);
// RFC 6455 §4.2.1 item 5: `key` is the canonical base64 of 16 bytes.
bool valid_client_key(std::string_view key) noexcept;

// ---- server ------------------------------------------------------------------------------------
// Why a request was refused: the error, the status to answer with, a one-line reason that names
// the header and the fix (sent as the body and reported in `rejected`), and headers the
// response must carry (426 → "Upgrade: websocket" or "Sec-WebSocket-Version: 13").
struct handshake_failure {
  errc ec;
  int status;
  std::string reason;
  std::vector<header_field> headers;
};

// RFC 6455 §4.2.1 checks, in this order: method GET (405; its reason speaks of WebSocket only
// when the request has an Upgrade header), HTTP/1.1 or later (400), Host (400), no body, i.e.
// no Transfer-Encoding and no Content-Length but 0 (400), Upgrade contains token "websocket" (426),
// Connection contains token "upgrade" (426), Sec-WebSocket-Version is 13 (426), Sec-WebSocket-Key
// is base64 of 16 bytes (400). Token comparisons are case-insensitive and read comma-separated
// lists (and repeated headers). On success fills `req` and `client_key` and returns nullopt.
std::optional<handshake_failure> check_upgrade_request(const http_head& head, upgrade_request& req,
                                                       std::string& client_key);
// The failure for a head the parser refused (errc::bad_request → 400, headers_too_large → 431).
handshake_failure parse_failure(errc ec, std::string_view detail);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection, Sec-WebSocket-Accept, the
// subprotocol if any, Sec-WebSocket-Extensions when `extensions` is not empty, and
// opts.extra_headers.
std::string build_accept_response(std::string_view client_key, const accept_options& opts,
                                  std::string_view extensions = {});

// ---- client ------------------------------------------------------------------------------------
// base64 of 16 fresh random bytes; empty if the random generator failed.
std::string make_client_key();
// "GET <target> HTTP/1.1" with Host, Upgrade, Connection, Sec-WebSocket-Key, -Version: 13,
// Origin and Sec-WebSocket-Protocol when given, Sec-WebSocket-Extensions when `extensions` is
// not empty, and opts.extra_headers.
std::string build_client_request(const client_options& opts, std::string_view client_key,
                                 std::string_view extensions = {});
// RFC 6455 §4.1 checks of the server's answer: status 101 (errc::bad_status), Upgrade websocket
// and Connection upgrade (errc::bad_response), Sec-WebSocket-Accept matches (errc::bad_accept),
// a subprotocol only among those offered (errc::bad_subprotocol), no extension unless one was
// offered (errc::bad_extension; an offered one's answer is checked by the caller). On success
// fills `out` (subprotocol, headers) and returns {}.
std::error_code check_upgrade_response(const http_head& head, std::string_view client_key,
                                       const client_options& offered, opened& out,
                                       bool extension_offered = false);

// ---- driving one connection's handshake ---------------------------------------------------------
// A server's refusal of a request: the HTTP answer to queue, and what `rejected` reports.
struct handshake_refusal {
  std::string response;
  rejected report;
};
// What the handshake found, for the connection to apply. monostate: nothing yet, feed more
// input. A server reports upgrade_request or http_request (then waits for the application's
// answer) or queues a refusal; a client reports opened or rejected.
using handshake_outcome = std::variant<std::monostate, upgrade_request, http_request,
                                       handshake_refusal, opened, rejected>;

// One connection's opening handshake, from the first byte until the connection opens or fails:
// the HTTP parser and what the answer is checked against (the key, the offers). The connection
// owns it while connecting and drops it after.
class opening_handshake {
 public:
  // A server reading the request.
  explicit opening_handshake(const config& cfg);
  // A client: checks `opts` as connection::connect() documents (errc::invalid_argument), draws a
  // fresh key (errc::invalid_state if the random generator failed), and writes the request to
  // `request`. On error `out` is left empty.
  static std::error_code start_client(const client_options& opts, const config& cfg,
                                      std::unique_ptr<opening_handshake>& out,
                                      std::string& request);
  ~opening_handshake();
  opening_handshake(const opening_handshake&) = delete;
  opening_handshake& operator=(const opening_handshake&) = delete;

  // Reads the request (server) or the response (client) from the front of `in` and adds the
  // bytes it took to `used`: what follows the head is frames. Once it returned anything but
  // monostate, it is not called again.
  handshake_outcome feed(bytes_view in, std::size_t& used);
  // Client: TCP ended while the response was read. A response whose body runs to EOF is
  // complete now; anything else is rejected (errc::bad_status with the head if one came, else
  // errc::eof_without_close).
  handshake_outcome at_eof();

  // Server, once a request was reported: the application's answers, checked as connection's
  // accept(), reject() and respond() document. Each writes the HTTP answer to `response`, or
  // returns errc::invalid_state (the other kind of request is waiting) or errc::invalid_argument
  // and writes nothing.
  std::error_code accept(const accept_options& opts, std::string& response) const;
  std::error_code reject(int status, std::string_view reason, std::span<const header_field> extra,
                         std::string& response) const;
  std::error_code respond(int status, std::span<const header_field> headers, std::string_view body,
                          std::string& response) const;

  // What permessage-deflate agreement the handshake reached (server: computed when the request
  // is read, sent by accept(); client: from a valid answer), and its header value.
  const std::optional<deflate_params>& deflate_agreed() const noexcept { return agreed_; }
  const std::string& deflate_answer() const noexcept { return answer_; }

 private:
  opening_handshake(http_parser::kind k, const config& cfg);
  handshake_outcome read_request(http_parser::status st);
  handshake_outcome read_response(http_parser::status st);

  http_parser parser_;
  std::string key_;                        // Sec-WebSocket-Key (ours or the client's)
  std::vector<std::string> subprotocols_;  // offered: by the client (server) or by us (client)
  deflate_options deflate_;                // config::deflate
  std::optional<deflate_params> agreed_;   // permessage-deflate, once agreed
  std::string answer_;                     // its Sec-WebSocket-Extensions value
  bool client_;
  bool plain_http_;  // config::plain_http
  // Server: the request waiting for the application's answer. A page (plain HTTP) is answered by
  // respond() or reject(); to a HEAD page request they send the head of the answer only.
  enum class waiting : std::uint8_t { upgrade, page, page_head };
  waiting waiting_ = waiting::upgrade;
};

}  // namespace wsx::detail
