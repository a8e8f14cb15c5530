// deflate_load's opening handshake (RFC 6455 §4.1) and its permessage-deflate offer and answer
// (RFC 7692 §5, §7.1), written here from the RFCs rather than taken from wsx, so that the load
// generator checks wsx instead of agreeing with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace deflate_load {

// What the client offers. A window of -1 leaves the parameter out; 0 sends it without a value
// (client_max_window_bits only, as Chromium does); 8-15 sends that value.
struct offer {
  bool deflate = true;
  int client_max_window_bits = 0;
  int server_max_window_bits = -1;
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
};

// What the server's answer agreed to.
struct agreement {
  bool deflate = false;
  unsigned client_window_bits = 15;  // the largest window this client may compress with
  unsigned server_window_bits = 15;  // the largest window the server compresses with
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
  std::string header;  // the Sec-WebSocket-Extensions value, as received

  bool operator==(const agreement&) const = default;
};

// The header's value for `o`, e.g. "permessage-deflate; client_max_window_bits"; empty when
// o.deflate is false.
std::string offer_text(const offer& o);

// The whole upgrade request for ws://host_port/path with `key` (a base64 nonce).
std::string upgrade_request(std::string_view host_port, std::string_view path, std::string_view key,
                            const offer& o);

// A fresh random Sec-WebSocket-Key and the Sec-WebSocket-Accept the server must answer with.
void make_key(std::string& key, std::string& accept);

// Reads a complete response head (ending in CRLF CRLF). Returns the empty string when it is a
// valid 101 for `accept` whose extensions answer `o` within RFC 7692 §7.1 (filling `out`), else
// what is wrong. A server that declines deflate is valid here: out.deflate stays false.
std::string check_response(std::string_view head, std::string_view accept, const offer& o,
                           agreement& out);

}  // namespace deflate_load
