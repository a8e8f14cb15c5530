// The opening handshake's keys (RFC 6455 §4): checking a client's Sec-WebSocket-Key, drawing a
// fresh one, and the server's Sec-WebSocket-Accept (SHA-1 and base64 from OpenSSL's libcrypto).
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "detail/handshake.hpp"
#include "detail/random.hpp"

namespace wsx::detail {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

// RFC 6455 §4.2.1 item 5: the key decodes to 16 bytes, i.e. 22 base64 characters and "==".
// The last character before the padding must carry zero low bits (canonical encoding).
bool valid_client_key(std::string_view key) noexcept {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64_value(key[i]) < 0) return false;
  }
  return (base64_value(key[21]) & 0x0F) == 0;
}

namespace {

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len > 0 ? static_cast<std::size_t>(len) : 0);
  return out;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input{client_key};
  input += websocket_guid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) !=
      1) {
    return {};
  }
  return base64(digest.data(), digest_len);
}

std::string make_client_key() {
  // RFC 6455 §4.1 item 7: a randomly selected 16-byte nonce, base64-encoded.
  std::array<std::byte, 16> nonce{};
  if (!random_bytes(nonce)) return {};
  return base64(reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size());
}

}  // namespace wsx::detail
