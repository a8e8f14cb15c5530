// The fuzzing peer's half of permessage-deflate (RFC 7692), written against zlib directly rather
// than the core's codec, so that the core is checked by an independent implementation:
// what was agreed (parsed from the agreed Sec-WebSocket-Extensions value), a compressor for what
// the peer sends and a decompressor for what the connection sent. The decompressor uses exactly
// the window the connection agreed to compress with and, where it agreed to no context takeover,
// a fresh stream per message: a back reference that breaks either promise fails to inflate.
// (connection_fuzz, session_checker)
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"

namespace wsx::fuzz {

// What an agreed `permessage-deflate; ...` value says (RFC 7692 §7.1). Empty value: nothing.
struct deflate_agreement {
  bool agreed = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  unsigned server_max_window_bits = 15;
  unsigned client_max_window_bits = 15;

  // The sender's side of one direction: does `sender` reset its compressor after each message,
  // and with which window does it compress?
  bool resets(wsx::role sender) const {
    return sender == wsx::role::server ? server_no_context_takeover : client_no_context_takeover;
  }
  unsigned window(wsx::role sender) const {
    return sender == wsx::role::server ? server_max_window_bits : client_max_window_bits;
  }
};

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a value the core produced or accepted, so it is well formed: parameters split on ';',
// `name` or `name=value`.
inline deflate_agreement parse_agreement(std::string_view value) {
  deflate_agreement a;
  value = trim(value);
  if (value.empty()) return a;
  std::size_t at = value.find(';');
  FUZZ_CHECK(trim(value.substr(0, at)) == "permessage-deflate");
  a.agreed = true;
  while (at != std::string_view::npos) {
    const std::size_t next = value.find(';', at + 1);
    const std::string_view param = trim(value.substr(at + 1, next - at - 1));
    const std::size_t eq = param.find('=');
    const std::string_view name = trim(param.substr(0, eq));
    const unsigned bits =
        eq == std::string_view::npos ? 15 : static_cast<unsigned>(std::stoul(
                                                std::string(trim(param.substr(eq + 1)))));
    if (name == "server_no_context_takeover") a.server_no_context_takeover = true;
    if (name == "client_no_context_takeover") a.client_no_context_takeover = true;
    if (name == "server_max_window_bits") a.server_max_window_bits = bits;
    if (name == "client_max_window_bits") a.client_max_window_bits = bits;
    at = next;
  }
  return a;
}

// The value of header `name` (exact case, as the core writes it) in an HTTP head, or "".
inline std::string header_value(std::string_view head, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t at = head.find(key);
  if (at == std::string_view::npos) return {};
  const std::size_t from = at + key.size();
  return std::string(head.substr(from, head.find("\r\n", from) - from));
}

constexpr std::string_view deflate_tail = std::string_view("\x00\x00\xff\xff", 4);

// One direction's zlib stream: raw deflate (compress) or raw inflate, reset per message when the
// sender promised no context takeover.
class peer_deflate_stream {
 public:
  peer_deflate_stream(bool compress, unsigned window_bits, bool reset_each_message)
      : compress_(compress), window_(static_cast<int>(window_bits)), reset_(reset_each_message) {
    const int r = compress_ ? deflateInit2(&z_, 6, Z_DEFLATED, -window_, 8, Z_DEFAULT_STRATEGY)
                            : inflateInit2(&z_, -window_);
    FUZZ_CHECK(r == Z_OK);
  }
  ~peer_deflate_stream() { compress_ ? deflateEnd(&z_) : inflateEnd(&z_); }
  peer_deflate_stream(const peer_deflate_stream&) = delete;
  peer_deflate_stream& operator=(const peer_deflate_stream&) = delete;

  // A whole message compressed as RFC 7692 §7.2.1 says: sync flush, the 00 00 ff ff tail removed.
  std::string compress(std::string_view message) {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z_.avail_in = static_cast<uInt>(message.size());
    do {
      char buf[4096];
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      FUZZ_CHECK(deflate(&z_, Z_SYNC_FLUSH) != Z_STREAM_ERROR);
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0);
    // zlib flushes nothing when no input came since the last flush: an empty message is then
    // the one byte RFC 7692 §7.2.3.6 shows, an empty stored block once the tail is added.
    if (out.empty()) return std::string(1, '\0');
    FUZZ_CHECK(out.size() >= 4 && std::string_view(out).ends_with(deflate_tail));
    out.resize(out.size() - 4);
    if (reset_) FUZZ_CHECK(deflateReset(&z_) == Z_OK);
    return out;
  }

  // A whole compressed message (tail appended here, RFC 7692 §7.2.2). False when it is not
  // valid DEFLATE data for this window and context.
  bool inflate(std::string_view compressed, std::string& out) {
    std::string in(compressed);
    in += deflate_tail;
    z_.next_in = reinterpret_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    bool ok = true;
    for (;;) {
      char buf[4096];
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      const int r = ::inflate(&z_, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - z_.avail_out);
      if (r != Z_OK && r != Z_BUF_ERROR) {  // Z_STREAM_END included: BFINAL ends the context
        ok = false;
        break;
      }
      if (z_.avail_in == 0 && z_.avail_out != 0) break;  // all input used, all output out
      if (r == Z_BUF_ERROR) {                             // input left but no progress
        ok = false;
        break;
      }
    }
    if (reset_) FUZZ_CHECK(inflateReset(&z_) == Z_OK);
    return ok;
  }

 private:
  bool compress_;
  int window_;
  bool reset_;
  z_stream z_{};
};

}  // namespace wsx::fuzz
