// The opening handshake (RFC 6455 §4) on top of a parsed http_head (its keys are in
// handshake_keys.cpp, the permessage-deflate offer and answer in deflate_negotiation.cpp).
//
// Server: check_upgrade_request() runs the §4.2.1 checks in a fixed order and, for the first one
// that fails, returns the status, the extra headers the answer must carry and a one-line reason
// naming the header and the usual fix (most often: a reverse proxy dropped Upgrade/Connection).
// The builders write the 101 or the refusal through http_fields (no input can inject a header).
// The application's own headers are checked first (valid_answer_headers), so every answer stays
// one well-framed HTTP/1.1 message. Client: build_client_request() writes the GET and
// check_upgrade_response() runs the §4.1 checks of the answer. opening_handshake drives these for
// one connection: it feeds the parser and turns each finished head into an outcome (an event to
// report, or a refusal to queue) that the connection applies; it changes no connection state.
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "detail/handshake.hpp"
#include "detail/http_fields.hpp"

namespace wsx::detail {

namespace {

constexpr std::string_view proxy_hint =
    "if a reverse proxy sits in front, forward the Upgrade and Connection headers (nginx: "
    "proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\")";

handshake_failure refuse(errc ec, int status, std::string reason,
                         std::vector<header_field> headers = {}) {
  return {ec, status, std::move(reason), std::move(headers)};
}

std::string with_hint(std::string_view what, const std::optional<std::string>& got) {
  std::string out{what};
  if (got) out += " (got " + quoted(*got) + ")";
  out += "; ";
  out += proxy_hint;
  return out;
}

}  // namespace

// ---- server ------------------------------------------------------------------------------------

std::optional<handshake_failure> check_upgrade_request(const http_head& head, upgrade_request& req,
                                                       std::string& client_key) {
  const auto& h = head.headers;
  // RFC 6455 §4.1 item 2 / §4.2.1 item 1: "The method of the request MUST be GET". A request
  // with no Upgrade header did not ask for WebSocket: its 405 speaks of the resource (RFC 9110
  // §15.5.6: with Allow).
  if (head.method != "GET") {
    const std::string method = "method " + printable(head.method) + " not allowed";
    return refuse(errc::not_get, 405,
                  head.header("Upgrade")
                      ? method + "; a WebSocket upgrade must be GET"
                      : method + " for " + printable(head.target) + "; it allows only GET",
                  {{"Allow", "GET"}});
  }
  // §4.1 item 2: "the HTTP version MUST be at least 1.1".
  if (head.version_major < 1 || (head.version_major == 1 && head.version_minor < 1)) {
    return refuse(errc::bad_http_version, 400,
                  "HTTP/" + std::to_string(head.version_major) + "." +
                      std::to_string(head.version_minor) +
                      " not supported; a WebSocket upgrade needs HTTP/1.1 (nginx: "
                      "proxy_http_version 1.1)");
  }
  // §4.2.1 item 2: a |Host| header field.
  const auto host = head.header("Host");
  if (!host || trim(*host).empty()) {
    return refuse(errc::missing_host, 400, "Host header missing; HTTP/1.1 requires it");
  }
  // RFC 6455 §4.1 item 2 asks for nothing but a head; a body would be read as frames (RFC 9112
  // §6.3: Content-Length or Transfer-Encoding announce one).
  if (const auto why = body_announced(h)) {
    return refuse(errc::upgrade_with_body, 400,
                  "an upgrade request must not have a body (" + *why + ")");
  }
  // §4.2.1 item 3: an |Upgrade| header field containing "websocket" (426: RFC 7231 §6.5.15).
  const auto upgrade = joined(h, "Upgrade");
  if (!has_token(upgrade, "websocket")) {
    return refuse(errc::missing_upgrade, 426,
                  with_hint("Upgrade: websocket header missing", upgrade),
                  {{"Upgrade", "websocket"}});
  }
  // §4.2.1 item 4: a |Connection| header field that includes the token "Upgrade".
  const auto connection = joined(h, "Connection");
  if (!has_token(connection, "upgrade")) {
    return refuse(errc::missing_connection_upgrade, 426,
                  with_hint("Connection: upgrade header missing", connection),
                  {{"Upgrade", "websocket"}});
  }
  // §4.2.1 item 6 and §4.4: version 13, else 426 with the versions we speak.
  const auto version = joined(h, "Sec-WebSocket-Version");
  if (!version || trim(*version) != "13") {
    return refuse(errc::bad_version, 426,
                  version ? "Sec-WebSocket-Version must be 13 (got " + quoted(*version) + ")"
                          : std::string{"Sec-WebSocket-Version header missing; it must be 13"},
                  {{"Sec-WebSocket-Version", "13"}});
  }
  // §4.2.1 item 5: |Sec-WebSocket-Key|, base64 of a 16-byte nonce.
  const auto key = joined(h, "Sec-WebSocket-Key");
  if (!key || !valid_client_key(*key)) {
    return refuse(errc::bad_key, 400,
                  key ? "Sec-WebSocket-Key must be base64 of 16 bytes (got " + quoted(*key) + ")"
                      : std::string{"Sec-WebSocket-Key header missing; it must be base64 of 16 "
                                    "random bytes"});
  }

  client_key = *key;
  req.method = head.method;
  req.target = head.target;
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? std::string{} : req.target.substr(q + 1);
  req.headers = head.headers;
  // §4.2.1 items 8-9: offered subprotocols and extensions, in order, across repeated headers.
  const auto protocols = joined(h, "Sec-WebSocket-Protocol");
  req.subprotocols = protocols ? split_list(*protocols, false) : std::vector<std::string>{};
  const auto extensions = joined(h, "Sec-WebSocket-Extensions");
  req.extensions = extensions ? split_list(*extensions, true) : std::vector<std::string>{};
  return std::nullopt;
}

handshake_failure parse_failure(errc ec, std::string_view detail) {
  if (ec == errc::headers_too_large) {
    // RFC 6585 §5: 431 Request Header Fields Too Large.
    return refuse(ec, 431,
                  detail.empty() ? std::string{"request head exceeds config::max_header_bytes"}
                                 : "request " + one_line(detail) + " (config::max_header_bytes)");
  }
  return refuse(ec, 400, "malformed HTTP request: " + one_line(detail));
}

std::string build_accept_response(std::string_view client_key, const accept_options& opts,
                                  std::string_view extensions) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
  // RFC 6455 §4.2.2 item 5.
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Accept", accept_key(client_key));
  if (!opts.subprotocol.empty()) append_header(out, "Sec-WebSocket-Protocol", opts.subprotocol);
  if (!extensions.empty()) append_header(out, "Sec-WebSocket-Extensions", extensions);
  for (const auto& f : opts.extra_headers) append_header(out, f.name, f.value);
  out += "\r\n";
  return out;
}

// ---- client ------------------------------------------------------------------------------------

std::string build_client_request(const client_options& opts, std::string_view client_key,
                                 std::string_view extensions) {
  // RFC 6455 §4.1 items 1-10.
  std::string out = "GET " + one_line(opts.target.empty() ? "/" : opts.target) + " HTTP/1.1\r\n";
  append_header(out, "Host", opts.host);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Key", client_key);
  append_header(out, "Sec-WebSocket-Version", "13");
  if (!opts.origin.empty()) append_header(out, "Origin", opts.origin);
  if (!opts.subprotocols.empty()) {
    std::string list;
    for (const auto& p : opts.subprotocols) list += (list.empty() ? "" : ", ") + p;
    append_header(out, "Sec-WebSocket-Protocol", list);
  }
  if (!extensions.empty()) append_header(out, "Sec-WebSocket-Extensions", extensions);
  for (const auto& f : opts.extra_headers) append_header(out, f.name, f.value);
  out += "\r\n";
  return out;
}

std::error_code check_upgrade_response(const http_head& head, std::string_view client_key,
                                       const client_options& offered, opened& out,
                                       bool extension_offered) {
  const auto& h = head.headers;
  // RFC 6455 §4.1, the client's checks of the server's handshake, items 1-6.
  if (head.status != 101) return errc::bad_status;
  if (!has_token(joined(h, "Upgrade"), "websocket")) return errc::bad_response;
  if (!has_token(joined(h, "Connection"), "upgrade")) return errc::bad_response;
  const auto accept = joined(h, "Sec-WebSocket-Accept");
  if (!accept || trim(*accept) != accept_key(client_key)) return errc::bad_accept;
  // Item 6: the subprotocol must be one the client offered (so none when none was offered).
  std::string chosen;
  if (const auto protocol = joined(h, "Sec-WebSocket-Protocol")) {
    const auto tokens = split_list(*protocol, false);
    if (tokens.size() > 1) return errc::bad_subprotocol;
    if (tokens.size() == 1) {
      bool was_offered = false;
      for (const auto& p : offered.subprotocols) was_offered = was_offered || p == tokens[0];
      if (!was_offered) return errc::bad_subprotocol;
      chosen = tokens[0];
    }
  }
  // Item 5: an extension not offered fails the connection.
  if (const auto ext = joined(h, "Sec-WebSocket-Extensions");
      ext && !trim(*ext).empty() && !extension_offered) {
    return errc::bad_extension;
  }
  out.subprotocol = std::move(chosen);
  out.extensions.clear();
  out.headers = head.headers;
  return {};
}

// ---- opening_handshake --------------------------------------------------------------------------

opening_handshake::opening_handshake(http_parser::kind k, const config& cfg)
    : parser_(k, cfg.max_header_bytes),
      deflate_(cfg.deflate),
      client_(k == http_parser::kind::response),
      plain_http_(cfg.plain_http) {}

opening_handshake::opening_handshake(const config& cfg)
    : opening_handshake(http_parser::kind::request, cfg) {}

opening_handshake::~opening_handshake() = default;

std::error_code opening_handshake::start_client(const client_options& opts, const config& cfg,
                                                std::unique_ptr<opening_handshake>& out,
                                                std::string& request) {
  if (opts.host.empty() || !valid_header_value(opts.host) || !valid_header_value(opts.origin) ||
      !valid_request_target(opts.target))
    return errc::invalid_argument;
  for (const auto& p : opts.subprotocols)
    if (p.empty() || !valid_header_name(p)) return errc::invalid_argument;
  if (!valid_answer_headers(answer_kind::request, opts.extra_headers))
    return errc::invalid_argument;
  std::string key = make_client_key();
  if (key.empty()) return errc::invalid_state;
  auto hs =
      std::unique_ptr<opening_handshake>(new opening_handshake(http_parser::kind::response, cfg));
  hs->key_ = std::move(key);
  hs->subprotocols_ = opts.subprotocols;  // RFC 6455 §4.1: the answer may pick one of these
  const std::string offer = cfg.deflate.enabled ? client_offer(cfg.deflate) : std::string{};
  hs->deflate_.enabled = !offer.empty();
  request = build_client_request(opts, hs->key_, offer);
  out = std::move(hs);
  return {};
}

handshake_outcome opening_handshake::feed(bytes_view in, std::size_t& used) {
  std::size_t n = 0;
  const auto st = parser_.feed(in, n);
  used += n;
  if (st == http_parser::status::need_more) return {};
  return client_ ? read_response(st) : read_request(st);
}

handshake_outcome opening_handshake::read_request(http_parser::status st) {
  const http_head& head = parser_.head();
  // RFC 9110 §9.3.2: the answer to HEAD is the head of the answer GET would get, no content.
  const bool head_only = st == http_parser::status::complete && head.method == "HEAD";
  const auto refusal = [head_only](const handshake_failure& f) {
    std::string response = build_reject_response(f.status, f.reason, f.headers);
    if (head_only) drop_body(response);
    return handshake_refusal{std::move(response), rejected{f.ec, f.status, f.reason, {}, {}}};
  };
  if (st == http_parser::status::error)
    return refusal(parse_failure(parser_.error(), parser_.error_detail()));
  // config::plain_http: a request with no Upgrade header at all (a page, a health check, an
  // OPTIONS probe; any method, HTTP/1.0 too) is the application's, not a bad upgrade.
  if (plain_http_ && !head.header("Upgrade")) {
    // RFC 9112 §3.2: an HTTP/1.1 request without Host gets 400.
    const auto host = head.header("Host");
    if (head.version_major == 1 && head.version_minor >= 1 && (!host || trim(*host).empty()))
      return refusal(refuse(errc::missing_host, 400, "Host header missing; HTTP/1.1 requires it"));
    waiting_ = head_only ? waiting::page_head : waiting::page;
    http_request r;
    r.method = head.method;
    r.target = head.target;
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    r.headers = head.headers;
    return r;
  }
  upgrade_request req;
  if (const auto failure = check_upgrade_request(head, req, key_)) return refusal(*failure);
  subprotocols_ = req.subprotocols;
  // RFC 7692 §5.1: the first acceptable permessage-deflate offer, answered by accept().
  if (const auto offers = joined(head.headers, "Sec-WebSocket-Extensions");
      offers && deflate_.enabled) {
    if (auto a = negotiate_server(*offers, deflate_)) {
      agreed_ = a->params;
      answer_ = std::move(a->answer);
    }
  }
  return req;
}

handshake_outcome opening_handshake::read_response(http_parser::status st) {
  if (st == http_parser::status::error) {
    const errc e = parser_.error();
    return rejected{e, 0, make_error_code(e).message() + ": " + parser_.error_detail(), {}, {}};
  }
  http_head head = parser_.head();
  opened ev;
  client_options offered;
  offered.subprotocols = subprotocols_;
  if (const auto ec = check_upgrade_response(head, key_, offered, ev, deflate_.enabled)) {
    std::string reason = head.status != 101 ? "server answered " + std::to_string(head.status) +
                                                  " " + head.reason_phrase
                                            : ec.message();
    return rejected{ec, head.status, std::move(reason), std::move(head.headers),
                    std::move(head.body)};
  }
  // RFC 7692 §5: an answer that breaks §7.1 fails the connection (1010, naming the problem).
  if (const auto ext = joined(head.headers, "Sec-WebSocket-Extensions");
      ext && !trim(*ext).empty()) {
    deflate_params p;
    if (auto why = check_server_answer(*ext, deflate_, p); !why.empty())
      return rejected{errc::bad_deflate_answer, head.status, std::move(why),
                      std::move(head.headers), std::move(head.body)};
    agreed_ = p;
    answer_ = std::string(trim(*ext));
    ev.extensions = {answer_};
  }
  return ev;
}

handshake_outcome opening_handshake::at_eof() {
  if (parser_.finish() == http_parser::status::complete)
    return read_response(http_parser::status::complete);
  http_head head = parser_.head();
  if (head.status != 0) {  // a head arrived, its body was cut short: report it
    return rejected{errc::bad_status, head.status,
                    "server answered " + std::to_string(head.status) + " " + head.reason_phrase +
                        " (body cut short)",
                    std::move(head.headers), std::move(head.body)};
  }
  return rejected{errc::eof_without_close,
                  0,
                  "connection closed before the server's handshake response",
                  {},
                  {}};
}

std::error_code opening_handshake::accept(const accept_options& opts, std::string& response) const {
  if (waiting_ != waiting::upgrade) return errc::invalid_state;
  if (!opts.subprotocol.empty() && std::find(subprotocols_.begin(), subprotocols_.end(),
                                             opts.subprotocol) == subprotocols_.end())
    return errc::invalid_argument;
  if (!valid_answer_headers(answer_kind::upgrade, opts.extra_headers))
    return errc::invalid_argument;
  // The core writes the permessage-deflate answer itself; a second one would contradict it.
  for (const auto& f : opts.extra_headers)
    if (!answer_.empty() && ascii_iequals(f.name, "Sec-WebSocket-Extensions"))
      return errc::invalid_argument;
  response = build_accept_response(key_, opts, answer_);
  return {};
}

std::error_code opening_handshake::reject(int status, std::string_view reason,
                                          std::span<const header_field> extra,
                                          std::string& response) const {
  if (status < 400 || status > 599 || !valid_answer_headers(answer_kind::refusal, extra))
    return errc::invalid_argument;
  response = build_reject_response(status, reason, extra);
  if (waiting_ == waiting::page_head) drop_body(response);
  return {};
}

std::error_code opening_handshake::respond(int status, std::span<const header_field> headers,
                                           std::string_view body, std::string& response) const {
  if (waiting_ == waiting::upgrade) return errc::invalid_state;
  if (!valid_respond(status, body) || !valid_answer_headers(answer_kind::plain, headers))
    return errc::invalid_argument;
  response = build_http_response(status, headers, body);
  if (waiting_ == waiting::page_head) drop_body(response);
  return {};
}

}  // namespace wsx::detail
