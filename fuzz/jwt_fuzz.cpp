// Fuzzes the bearer-token path of wsx/common/auth.hpp: token_from_request and verify_hs256, which
// read attacker bytes before the upgrade is authenticated. The first input byte picks a mode (its
// value modulo 3), FuzzedDataProvider cuts the rest into fields:
//   0  a raw token, verified under a fixed secret;
//   1  a fuzzed header and payload signed here with HMAC-SHA256 under a fuzzed secret K, so the
//      claim checks behind the signature are reached too;
//   2  a query string and an Authorization header for token_from_request.
// Checked beyond not crashing:
//  - reason is empty exactly when ec is clear, ec is in jwt_category, http_status is 401 or 0;
//  - a success has a non-empty sub and exp/nbf that hold at `now` with the leeway;
//  - mode 1: under K the result is never bad_signature; under any other secret (K plus a byte,
//    K with a bit flipped, empty) nothing verifies: a check before the signature fails the same
//    way, anything that got past it is bad_signature; the token with one byte changed does not
//    verify;
//  - mode 2: the result is never an empty token; a well-formed "Bearer T" header yields T
//    whatever the query; "token=" + percent-encoded S in the query yields S.
// WSX_FUZZ_TRACE=1 prints the token and the outcome when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "common.hpp"
#include "wsx/common/auth.hpp"

namespace {

namespace auth = wsx::auth;
using auth::jwt_error;
using wsx::fuzz::trace;

constexpr char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += b64url[(acc >> bits) & 0x3F];
    }
    acc &= (1U << bits) - 1;
  }
  if (bits > 0) out += b64url[(acc << (6 - bits)) & 0x3F];
  return out;
}

// base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256(secret, the first two)).
std::string signed_token(std::string_view header, std::string_view payload, std::string_view key) {
  std::string token = base64url(header) + "." + base64url(payload);
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  static const unsigned char empty_key = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&empty_key) : key.data();
  FUZZ_CHECK(HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac.data(),
                  &len) != nullptr);
  return token + "." + base64url({reinterpret_cast<const char*>(mac.data()), len});
}

bool is(const std::error_code& ec, jwt_error e) { return ec == auth::make_error_code(e); }

// Under another secret, `other` must fail: with bad_signature, or with the very same error and
// reason when `r` (under the right secret) failed a check made before the signature. A result
// that got past the signature (success, or a claim check) must turn into bad_signature.
void check_other_secret(const auth::jwt_result& r, const auth::jwt_result& other) {
  FUZZ_CHECK(other.ec);
  if (is(other.ec, jwt_error::bad_signature)) return;
  FUZZ_CHECK(other.ec == r.ec && other.reason == r.reason);
  FUZZ_CHECK(!is(r.ec, jwt_error::expired) && !is(r.ec, jwt_error::not_yet_valid) &&
             !is(r.ec, jwt_error::missing_sub));
}

const auth::jwt_result& checked(const auth::jwt_result& r, std::int64_t now, std::int64_t leeway) {
  if (trace) std::fprintf(stderr, "  -> %d %s\n", r.ec.value(), r.reason.c_str());
  FUZZ_CHECK(r.reason.empty() == !r.ec);
  FUZZ_CHECK(!r.ec || r.ec.category() == auth::jwt_category());
  FUZZ_CHECK(auth::http_status(r.ec) == (r.ec ? 401 : 0));
  if (!r.ec) {
    const std::int64_t l = leeway > 0 ? leeway : 0;
    FUZZ_CHECK(!r.claims.sub.empty());
    if (r.claims.exp && *r.claims.exp < INT64_MAX - l) FUZZ_CHECK(now < *r.claims.exp + l);
    if (r.claims.nbf && now < INT64_MAX - l) FUZZ_CHECK(now + l >= *r.claims.nbf);
  }
  return r;
}

void raw_token(FuzzedDataProvider& in) {
  const auto now = in.ConsumeIntegral<std::int64_t>();
  const auto leeway = in.ConsumeIntegralInRange<std::int64_t>(-10, 600);
  const std::string token = in.ConsumeRemainingBytesAsString();
  if (trace) std::fprintf(stderr, "raw token %s\n", token.c_str());
  const auth::jwt_result r =
      checked(auth::verify_hs256(token, "fuzz-secret", now, leeway), now, leeway);
  // The corpus may hold tokens signed with this secret; none verifies under another one.
  check_other_secret(r,
                     checked(auth::verify_hs256(token, "fuzz-secreT", now, leeway), now, leeway));
}

void signed_parts(FuzzedDataProvider& in) {
  const auto now = in.ConsumeIntegral<std::int64_t>();
  const auto leeway = in.ConsumeIntegralInRange<std::int64_t>(-10, 600);
  const std::string key = in.ConsumeRandomLengthString(64);
  const std::string header = in.ConsumeRandomLengthString(256);
  const std::string payload = in.ConsumeRemainingBytesAsString();
  const std::string token = signed_token(header, payload, key);
  if (trace) std::fprintf(stderr, "signed token %s\n", token.c_str());

  const auth::jwt_result good = checked(auth::verify_hs256(token, key, now, leeway), now, leeway);
  if (key.empty()) {
    FUZZ_CHECK(good.ec);  // an empty secret verifies nothing
  } else {
    FUZZ_CHECK(!is(good.ec, jwt_error::bad_signature));
  }
  if (!good.ec) FUZZ_CHECK(good.claims.raw_payload_json == payload);
  // A claim check failed after the signature matched: the claims are filled, just not trusted.
  if (is(good.ec, jwt_error::expired) || is(good.ec, jwt_error::not_yet_valid) ||
      is(good.ec, jwt_error::missing_sub)) {
    FUZZ_CHECK(good.claims.raw_payload_json == payload);
  }

  std::string flipped = key.empty() ? std::string("k") : key;
  flipped[0] = static_cast<char>(flipped[0] ^ 0x01);
  for (const std::string& other : {key + "x", flipped, std::string()}) {
    if (other == key) continue;
    check_other_secret(good, checked(auth::verify_hs256(token, other, now, leeway), now, leeway));
  }

  if (!token.empty()) {
    std::string tampered = token;
    const std::size_t at = payload.size() % tampered.size();
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    FUZZ_CHECK(checked(auth::verify_hs256(tampered, key, now, leeway), now, leeway).ec);
  }
}

bool b64token(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && ((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') ||
                          (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '.' ||
                          t[i] == '_' || t[i] == '~' || t[i] == '+' || t[i] == '/')) {
    ++i;
  }
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

std::string percent_encoded(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += hex[u >> 4];
    out += hex[u & 0xF];
  }
  return out;
}

void from_request(FuzzedDataProvider& in) {
  const bool has_header = in.ConsumeBool();
  const std::string header = in.ConsumeRandomLengthString(512);
  const std::string query = in.ConsumeRemainingBytesAsString();
  const std::optional<std::string_view> h =
      has_header ? std::optional<std::string_view>(header) : std::nullopt;
  if (trace) std::fprintf(stderr, "query %s header %s\n", query.c_str(), header.c_str());

  const std::optional<std::string> t = auth::token_from_request(query, h);
  FUZZ_CHECK(!t || !t->empty());
  // A header that is not a bearer credential changes nothing.
  FUZZ_CHECK(auth::token_from_request(query, "Basic " + header) ==
             auth::token_from_request(query, std::nullopt));
  if (b64token(header)) {
    FUZZ_CHECK(auth::token_from_request(query, "Bearer " + header) == header);
    FUZZ_CHECK(auth::token_from_request(query, " bEARER \t" + header + " ") == header);
  }
  if (!query.empty()) {
    FUZZ_CHECK(auth::token_from_request("?token=" + percent_encoded(query), std::nullopt) == query);
    FUZZ_CHECK(auth::token_from_request("a=1&token=" + percent_encoded(query) + "&token=x",
                                        std::nullopt) == query);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  FuzzedDataProvider in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      raw_token(in);
      break;
    case 1:
      signed_parts(in);
      break;
    default:
      from_request(in);
      break;
  }
  return 0;
}
