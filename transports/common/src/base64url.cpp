// base64url without padding (RFC 4648 §5, RFC 7515 §2). Encoding moves 8 bits in and 6 bits out
// through a small accumulator and zero-fills the last partial group; decoding is its mirror and
// insists on the canonical form (no padding, no 4k+1 length, no bits set past the last byte), so
// a token has one spelling and cannot be altered without changing the bytes it stands for.
#include "base64url.hpp"

namespace wsx::detail {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3F];
    }
    acc &= (1U << bits) - 1;
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::string base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return "has an impossible base64url length " + std::to_string(in.size());
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int v = value_of(in[i]);
    if (v < 0) return "has a non-base64url character at offset " + std::to_string(i);
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
      acc &= (1U << bits) - 1;
    }
  }
  if (acc != 0) return "is not canonical base64url (unused bits set in its last character)";
  return {};
}

}  // namespace wsx::detail
