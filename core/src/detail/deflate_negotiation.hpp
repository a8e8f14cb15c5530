// permessage-deflate negotiation (RFC 7692 §5, §7.1): parsing Sec-WebSocket-Extensions offers and
// answers, the server's choice of the first acceptable offer within its memory budget, the
// client's offer and its checks of the server's answer. Pure functions over strings: the
// handshake calls them, the codec runs what they agree on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsx/config.hpp"

namespace wsx::detail {

// What both sides run once permessage-deflate is agreed. Window bits are what the wire allows
// each direction (8-15); mem_level is this side's compressor's and never on the wire.
struct deflate_params {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::uint8_t server_max_window_bits = 15;
  std::uint8_t client_max_window_bits = 15;
  std::uint8_t deflate_window_bits = 15;  // what this side's compressor uses (<= its maximum)
  std::uint8_t mem_level = 8;
  int level = 6;

  friend bool operator==(const deflate_params&, const deflate_params&) = default;
};

// One extension element of a Sec-WebSocket-Extensions list (RFC 6455 §9.1): a name and its
// parameters, a quoted-string value already unquoted.
struct extension_param {
  std::string name;
  std::optional<std::string> value;
};
struct extension_element {
  std::string name;
  std::vector<extension_param> params;
};
// Parses a whole header value (several headers joined by ", "). Returns nullopt when it does not
// follow the grammar (an empty element, a name or value that is no token, a broken quote).
std::optional<std::vector<extension_element>> parse_extensions(std::string_view value);

// One permessage-deflate element's parameters, checked (RFC 7692 §7.1): known names, each at
// most once, no value on the no_context_takeover ones, window bits a decimal 8-15 without leading
// zeros (required in an answer and for server_max_window_bits, optional for an offered
// client_max_window_bits: 0 stands for "present without a value").
struct deflate_element {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<std::uint8_t> server_max_window_bits;
  std::optional<std::uint8_t> client_max_window_bits;
};
enum class element_kind : std::uint8_t { offer, answer };
// Empty string when `e` is valid, else a one-line reason naming the parameter.
std::string check_deflate_element(const extension_element& e, element_kind k, deflate_element& out);

// zlib's documented memory use (zconf.h) plus its state structures, in bytes.
std::size_t deflate_memory(unsigned window_bits, unsigned mem_level) noexcept;
std::size_t inflate_memory(unsigned window_bits) noexcept;

// ---- server ------------------------------------------------------------------------------------
struct server_agreement {
  deflate_params params;
  std::string answer;  // the Sec-WebSocket-Extensions value of the 101
};
// Picks the first permessage-deflate offer of `offers` (the joined header value) this server
// accepts under `opts`; nullopt when none (no offer, all invalid, or none fits the budget). An
// offer asking for server_max_window_bits=8 is declined: zlib cannot compress with a 256-byte
// window.
std::optional<server_agreement> negotiate_server(std::string_view offers,
                                                 const deflate_options& opts);

// ---- client ------------------------------------------------------------------------------------
// The Sec-WebSocket-Extensions value a client with `opts` offers.
std::string client_offer(const deflate_options& opts);
// Checks the server's answer `value` (joined header) against the offer client_offer(opts) made.
// Empty string and `out` filled when it is valid; else the reason (RFC 7692 §5: the client then
// fails the connection).
std::string check_server_answer(std::string_view value, const deflate_options& opts,
                                deflate_params& out);

}  // namespace wsx::detail
