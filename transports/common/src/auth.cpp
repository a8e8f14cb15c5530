// Bearer tokens and HS256 JWT verification.
//
// verify_hs256 runs the checks cheapest-and-least-trusting first: size and shape, strict
// base64url of all three parts, the header (alg fixed to HS256 by us, never chosen by the
// token), the HMAC compared in constant time, and only then the payload's claims — so attacker
// JSON reaches the claim parser only when it carries a valid signature. Header and payload are
// read by the strict one-object reader of wsx/common/json.hpp, which refuses duplicate member
// names as RFC 7519 §4 asks and quotes attacker text only through json::loggable.
#include "wsx/common/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <utility>

#include "base64url.hpp"
#include "wsx/common/json.hpp"

namespace wsx::auth {
namespace {

using detail::base64url_decode;
using detail::base64url_encode;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---- claims ----------------------------------------------------------------------------------

enum class rounding { down, up };

// A NumericDate (RFC 7519 §2) from a JSON number literal, in whole seconds.
std::optional<std::int64_t> numeric_date(const std::string& literal, rounding r) {
  const char* first = literal.data();
  const char* last = first + literal.size();
  if (literal.find_first_of(".eE") == std::string::npos) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc{} || end != last) return std::nullopt;
    return v;
  }
  double d = 0;
  const auto [end, ec] = std::from_chars(first, last, d);
  if (ec != std::errc{} || end != last || !std::isfinite(d)) return std::nullopt;
  d = r == rounding::down ? std::floor(d) : std::ceil(d);
  // ±2^63 as doubles: the open range keeps the conversion below defined.
  if (d <= -9223372036854775808.0 || d >= 9223372036854775808.0) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// HMAC-SHA256(key, data); false when OpenSSL fails or the key is too long for its API.
bool hmac_sha256(std::string_view key, std::string_view data, std::array<unsigned char, 32>& out) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return false;
  static const unsigned char empty_key = 0;  // HMAC() wants a non-null pointer
  const void* key_ptr = key.empty() ? static_cast<const void*>(&empty_key) : key.data();
  unsigned int len = 0;
  const unsigned char* r =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return r != nullptr && len == out.size();
}

// The value of member `name` of `o`, or nullptr when there is none.
const json::value* value_of(const json::object& o, std::string_view name) noexcept {
  const json::member* m = o.find(name);
  return m == nullptr ? nullptr : &m->value;
}

jwt_result failure(jwt_error e, std::string reason) {
  jwt_result r;
  r.ec = make_error_code(e);
  r.reason = std::move(reason);
  return r;
}

class jwt_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wsx.jwt"; }
  std::string message(int ev) const override {
    switch (static_cast<jwt_error>(ev)) {
      case jwt_error::malformed:
        return "token is not a well-formed JWT";
      case jwt_error::bad_header:
        return "token header is invalid";
      case jwt_error::unsupported_alg:
        return "token algorithm is not HS256";
      case jwt_error::bad_signature:
        return "token signature does not verify";
      case jwt_error::expired:
        return "token has expired";
      case jwt_error::not_yet_valid:
        return "token is not valid yet";
      case jwt_error::missing_sub:
        return "token has no subject (sub)";
    }
    return "unknown JWT error";
  }
};

// ---- request parsing -------------------------------------------------------------------------

// application/x-www-form-urlencoded decoding; nullopt on a malformed %-escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] != '%') {
      out += in[i];
    } else {
      if (in.size() - i < 3) return std::nullopt;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; b64token = 1*(ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/") *"=".
std::optional<std::string> bearer_token(std::string_view h) {
  while (!h.empty() && is_ows(h.front())) h.remove_prefix(1);
  while (!h.empty() && is_ows(h.back())) h.remove_suffix(1);
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size() || !equals_ignoring_case(h.substr(0, scheme.size()), scheme) ||
      !is_ows(h[scheme.size()])) {
    return std::nullopt;
  }
  h.remove_prefix(scheme.size());
  while (!h.empty() && is_ows(h.front())) h.remove_prefix(1);
  std::size_t i = 0;
  const auto token_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < h.size() && token_char(h[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < h.size() && h[i] == '=') ++i;
  if (i != h.size()) return std::nullopt;
  return std::string(h);
}

}  // namespace

const std::error_category& jwt_category() noexcept {
  static const jwt_category_impl category;
  return category;
}

int http_status(const std::error_code& ec) noexcept { return ec ? 401 : 0; }

std::optional<std::string> token_from_request(
    std::string_view query, std::optional<std::string_view> authorization_header) {
  if (authorization_header) {
    if (auto t = bearer_token(*authorization_header)) return t;
  }
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const auto name = percent_decode(pair.substr(0, eq));
    if (!name || *name != "token") continue;
    if (eq == std::string_view::npos) return std::nullopt;
    auto value = percent_decode(pair.substr(eq + 1));
    if (!value || value->empty()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string sign_hs256(std::string_view payload_json, std::string_view secret) {
  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += base64url_encode(payload_json);
  std::array<unsigned char, 32> mac{};
  if (!hmac_sha256(secret, token, mac)) return {};
  token += '.';
  token += base64url_encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
  return token;
}

jwt_result verify_hs256(std::string_view token, std::string_view secret,
                        std::int64_t now_unix_seconds, std::int64_t leeway_seconds) {
  // 1. shape: RFC 7515 §7.1 compact serialization, three base64url parts.
  if (token.size() > max_token_size) {
    return failure(jwt_error::malformed, "token is " + std::to_string(token.size()) +
                                             " bytes, longer than " +
                                             std::to_string(max_token_size));
  }
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return failure(jwt_error::malformed, "token must have exactly three '.'-separated parts");
  }
  const std::string_view parts[3] = {token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1),
                                     token.substr(dot2 + 1)};
  static constexpr const char* part_names[3] = {"header", "payload", "signature"};
  std::string decoded[3];
  for (int i = 0; i < 3; ++i) {
    // An empty signature ("alg":"none" style) is left for the header check to name.
    if (parts[i].empty() && i != 2) {
      return failure(jwt_error::malformed, std::string(part_names[i]) + " is empty");
    }
    std::string why = base64url_decode(parts[i], decoded[i]);
    if (!why.empty()) return failure(jwt_error::malformed, std::string(part_names[i]) + " " + why);
  }

  // 2. header: the algorithm is ours to choose (RFC 8725 §3.1), crit is unsupported.
  const json::read_result header = json::read_object(decoded[0]);
  if (!header.error.empty()) return failure(jwt_error::bad_header, "header: " + header.message());
  const json::value* alg = value_of(header.object, "alg");
  const json::value* typ = value_of(header.object, "typ");
  if (!alg) return failure(jwt_error::bad_header, "header has no \"alg\"");
  if (alg->type != json::kind::string) {
    return failure(jwt_error::bad_header, "header \"alg\" is not a string");
  }
  if (alg->text != "HS256") {
    return failure(jwt_error::unsupported_alg,
                   "alg \"" + json::loggable(alg->text) + "\" refused: only HS256 is accepted");
  }
  if (typ &&
      (typ->type != json::kind::string || !(equals_ignoring_case(typ->text, "JWT") ||
                                            equals_ignoring_case(typ->text, "application/jwt")))) {
    return failure(jwt_error::bad_header, "header \"typ\" is not \"JWT\"");
  }
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; we understand none.
  if (header.object.find("crit") != nullptr)
    return failure(jwt_error::bad_header, "header \"crit\" is not supported");

  // 3. signature over the ASCII of "header.payload" (RFC 7515 §5.2), compared in constant time.
  if (secret.empty()) return failure(jwt_error::bad_signature, "no secret configured");
  if (decoded[2].size() != 32) {
    return failure(jwt_error::bad_signature,
                   "signature is " + std::to_string(decoded[2].size()) + " bytes, HS256 gives 32");
  }
  std::array<unsigned char, 32> mac{};
  if (!hmac_sha256(secret, token.substr(0, dot2), mac)) {
    return failure(jwt_error::bad_signature, "HMAC-SHA256 computation failed");
  }
  if (CRYPTO_memcmp(mac.data(), decoded[2].data(), mac.size()) != 0) {
    return failure(jwt_error::bad_signature,
                   "signature does not match (wrong secret or tampered token)");
  }

  // 4. claims (RFC 7519 §4.1).
  jwt_result r;
  r.claims.raw_payload_json = std::move(decoded[1]);
  const json::read_result payload = json::read_object(r.claims.raw_payload_json);
  if (!payload.error.empty()) return failure(jwt_error::malformed, "payload: " + payload.message());
  const json::value* sub = value_of(payload.object, "sub");
  struct date_claim {
    const char* name;
    const json::value* value;
    rounding round;  // toward the stricter side: exp earlier, nbf later
    std::optional<std::int64_t>& out;
  };
  for (const date_claim& d :
       {date_claim{"exp", value_of(payload.object, "exp"), rounding::down, r.claims.exp},
        date_claim{"nbf", value_of(payload.object, "nbf"), rounding::up, r.claims.nbf},
        date_claim{"iat", value_of(payload.object, "iat"), rounding::down, r.claims.iat}}) {
    if (!d.value) continue;
    if (d.value->type != json::kind::number) {
      return failure(jwt_error::malformed, std::string(d.name) + " is not a number");
    }
    d.out = numeric_date(d.value->text, d.round);
    if (!d.out) {
      return failure(jwt_error::malformed, std::string(d.name) + " " +
                                               json::loggable(d.value->text) + " is out of range");
    }
  }
  if (sub && sub->type == json::kind::string) r.claims.sub = sub->text;

  const std::int64_t leeway = leeway_seconds > 0 ? leeway_seconds : 0;
  const std::string context =
      " (now " + std::to_string(now_unix_seconds) + ", leeway " + std::to_string(leeway) + " s)";
  // RFC 7519 §4.1.4: the current time MUST be before exp.
  if (r.claims.exp && now_unix_seconds >= saturating_add(*r.claims.exp, leeway)) {
    r.ec = make_error_code(jwt_error::expired);
    r.reason = "token expired at " + std::to_string(*r.claims.exp) + context;
    return r;
  }
  // RFC 7519 §4.1.5: the current time MUST be after or equal to nbf.
  if (r.claims.nbf && saturating_add(now_unix_seconds, leeway) < *r.claims.nbf) {
    r.ec = make_error_code(jwt_error::not_yet_valid);
    r.reason = "token not valid before " + std::to_string(*r.claims.nbf) + context;
    return r;
  }
  if (!sub || sub->type != json::kind::string || sub->text.empty()) {
    r.ec = make_error_code(jwt_error::missing_sub);
    r.reason = !sub                              ? "token has no \"sub\" claim"
               : sub->type != json::kind::string ? "\"sub\" is not a string"
                                                 : "\"sub\" is empty";
    return r;
  }
  return r;
}

}  // namespace wsx::auth
