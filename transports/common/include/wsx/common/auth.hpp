// Authentication helpers for the upgrade hook: find the bearer token in a request, verify an
// HS256 JSON Web Token (RFC 7519 / RFC 7515) and take the user id from its "sub" claim.
//
// Typical upgrade hook:
//   auto token = wsx::auth::token_from_request(req.query, req.header("Authorization"));
//   if (!token) return reject(401, "no token");
//   auto r = wsx::auth::verify_hs256(*token, secret, unix_now());
//   if (r.ec) return reject(wsx::auth::http_status(r.ec), r.reason);
//   return accept(r.claims.sub);
//
// Only HS256 is supported, on purpose: the algorithm is fixed by the server, never chosen by the
// token ("alg":"none", HS512, RS256… are all refused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace wsx::auth {

// Returns the token the client presented, or nullopt when it presented none:
//  - `Authorization: Bearer <token>` (RFC 6750 §2.1; scheme case-insensitive, token of b64token
//    characters), preferred because query strings end up in access logs;
//  - otherwise the first `token=` parameter of `query` (the part after '?', with or without the
//    '?'), percent-decoded, '+' read as a space (browsers cannot set headers on a WebSocket).
// An empty token, a malformed escape (%zz, a truncated %) or a non-Bearer scheme counts as none.
std::optional<std::string> token_from_request(std::string_view query,
                                              std::optional<std::string_view> authorization_header);

// The registered claims wsx reads (RFC 7519 §4.1). NumericDates are whole seconds since the
// Unix epoch; a fractional value is rounded toward the stricter side (exp down, nbf up).
struct jwt_claims {
  std::string sub;                  // the subject: becomes the session's user id
  std::optional<std::int64_t> exp;  // expiration time, when present
  std::optional<std::int64_t> nbf;  // not-before time, when present
  std::optional<std::int64_t> iat;  // issued-at time, when present (informational, not checked)
  std::string raw_payload_json;     // the decoded payload, for application-specific claims
};

// Why a token was refused. Every value maps to HTTP 401 (http_status()).
enum class jwt_error {
  malformed = 1,    // not three base64url parts, bad base64url, payload not a JSON object, a
                    // claim of the wrong type or out of range, token too long
  bad_header,       // header not a JSON object, no "alg", "typ" not JWT, "crit" present
  unsupported_alg,  // "alg" is anything but "HS256" (including "none")
  bad_signature,    // the HMAC does not match (wrong secret, tampered token), or no secret
  expired,          // now >= exp + leeway
  not_yet_valid,    // now + leeway < nbf
  missing_sub,      // no "sub", or it is not a non-empty string
};

const std::error_category& jwt_category() noexcept;
inline std::error_code make_error_code(jwt_error e) noexcept {
  return {static_cast<int>(e), jwt_category()};
}

// Longest token verify_hs256 reads; longer ones are malformed (it must fit in a request head).
inline constexpr std::size_t max_token_size = 16 * 1024;

// The outcome of verify_hs256. On success `ec` is clear, `reason` empty and `claims` filled.
// On failure `ec` says which check failed and `reason` says how, for logs and the 401 body
// (e.g. "token expired at 1732500000 (now 1732600000, leeway 0 s)"); `claims` is filled only
// when the failure came after the signature matched and the payload parsed (expired,
// not_yet_valid, missing_sub) — never trust it then, it only helps the log line.
struct jwt_result {
  std::error_code ec;
  std::string reason;
  jwt_claims claims;
};

// Verifies a compact-serialized JWS (RFC 7515 §7.1) signed with HMAC-SHA256 under `secret`:
//   1. three base64url parts (RFC 7515 §2: no padding; non-canonical trailing bits refused);
//   2. header is a JSON object with "alg":"HS256", "typ" absent or "JWT"/"application/jwt"
//      (case-insensitive), and no "crit";
//   3. the signature equals HMAC-SHA256(secret, header "." payload) (constant-time compare);
//   4. the payload is a JSON object without duplicate members; exp/nbf/iat, when present, are
//      numbers; exp and nbf are checked against `now_unix_seconds` with `leeway_seconds` of
//      clock skew (a negative leeway counts as 0); "sub" is a non-empty string.
// The payload is parsed only after the signature matched. An empty secret verifies nothing
// (bad_signature). Never throws on any input except std::bad_alloc.
jwt_result verify_hs256(std::string_view token, std::string_view secret,
                        std::int64_t now_unix_seconds, std::int64_t leeway_seconds = 0);

// Builds a token: base64url({"alg":"HS256","typ":"JWT"}) "." base64url(payload_json) "."
// base64url(HMAC-SHA256). `payload_json` is used as given (not validated). For tests, tools
// and the demos' ready-made tokens.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

// The HTTP status to reject an upgrade with when verification failed with `ec`: 401 for every
// error (RFC 6750 §3.1 invalid_token), 0 when `ec` is clear.
int http_status(const std::error_code& ec) noexcept;

}  // namespace wsx::auth

namespace std {
template <>
struct is_error_code_enum<wsx::auth::jwt_error> : true_type {};
}  // namespace std
