// Tests for wsx::auth: published HS256 vectors (jwt.io's example, RFC 7515 Appendix A.1), tokens
// built by hand in this file with OpenSSL directly, every refusal with its specific jwt_error and
// reason, exp/nbf boundaries with leeway, how payload JSON errors surface (the reader itself is
// json_test.cpp's), bearer-token extraction, and properties: random strings and mutated tokens
// never verify, and validly signed random payloads never crash the claim parser.
#include "wsx/common/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

namespace auth = wsx::auth;
using auth::jwt_error;
using ::testing::HasSubstr;

constexpr std::string_view secret = "correct horse battery staple";

// ---- an independent token builder: OpenSSL's base64 and HMAC, nothing from wsx ----------------

std::string b64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return {reinterpret_cast<const char*>(mac), len};
}

std::string hand_token(std::string_view header_json, std::string_view payload_json,
                       std::string_view key = secret) {
  const std::string input = b64url(header_json) + "." + b64url(payload_json);
  return input + "." + b64url(hmac(key, input));
}

std::string hs256(std::string_view payload_json) {
  return hand_token(R"({"alg":"HS256","typ":"JWT"})", payload_json);
}

auth::jwt_result verify(std::string_view token, std::int64_t now = 1000, std::int64_t leeway = 0) {
  return auth::verify_hs256(token, secret, now, leeway);
}

// ---- published vectors --------------------------------------------------------------------------

TEST(auth, jwt_io_example_verifies) {
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  const auto r = auth::verify_hs256(token, "your-256-bit-secret", 1516239022);
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(r.claims.sub, "1234567890");
  EXPECT_EQ(r.claims.iat, 1516239022);
  EXPECT_FALSE(r.claims.exp);
  EXPECT_FALSE(r.claims.nbf);
  EXPECT_EQ(r.claims.raw_payload_json,
            R"({"sub":"1234567890","name":"John Doe","iat":1516239022})");
  // sign_hs256 produces the very same token: same header bytes, same encoding.
  EXPECT_EQ(auth::sign_hs256(r.claims.raw_payload_json, "your-256-bit-secret"), token);
}

// RFC 7515 Appendix A.1: the signature verifies (header with CRLF whitespace, "typ" first); the
// claims set has no "sub", so wsx refuses it as missing_sub — or as expired once past its exp.
TEST(auth, rfc7515_appendix_a1_signature_verifies) {
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const unsigned char key[] = {0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06,
                               0x65, 0x77, 0x7b, 0xa6, 0x8f, 0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54,
                               0xc9, 0x28, 0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf, 0xd3,
                               0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef, 0x96, 0x8a, 0xb4, 0xc3,
                               0x77, 0x62, 0x3d, 0x22, 0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f,
                               0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
  const std::string_view k{reinterpret_cast<const char*>(key), sizeof key};
  auto r = auth::verify_hs256(token, k, 1300819379);
  EXPECT_EQ(r.ec, jwt_error::missing_sub) << r.reason;
  EXPECT_EQ(r.claims.exp, 1300819380);
  r = auth::verify_hs256(token, k, 1300819380);
  EXPECT_EQ(r.ec, jwt_error::expired);
  EXPECT_EQ(r.reason, "token expired at 1300819380 (now 1300819380, leeway 0 s)");
}

// ---- round trips --------------------------------------------------------------------------------

TEST(auth, hand_built_token_verifies_and_matches_sign_hs256) {
  const std::string payload = R"({"sub":"alice","exp":2000,"nbf":500,"iat":400,"room":"x"})";
  const std::string token = hs256(payload);
  EXPECT_EQ(auth::sign_hs256(payload, secret), token);
  const auto r = verify(token);
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_TRUE(r.reason.empty());
  EXPECT_EQ(r.claims.sub, "alice");
  EXPECT_EQ(r.claims.exp, 2000);
  EXPECT_EQ(r.claims.nbf, 500);
  EXPECT_EQ(r.claims.iat, 400);
  EXPECT_EQ(r.claims.raw_payload_json, payload);
  EXPECT_EQ(auth::http_status(r.ec), 0);
}

TEST(auth, header_member_order_whitespace_and_extra_members_are_fine) {
  const auto r = verify(hand_token(" {\n\t\"typ\" : \"jwt\" , \"kid\":\"k1\", \"alg\":\"HS256\" } ",
                                   R"({"sub":"\u00e9l\u00E8ve \ud83d\ude00 \"q\" \\ \/"})"));
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(r.claims.sub, "\xC3\xA9l\xC3\xA8ve \xF0\x9F\x98\x80 \"q\" \\ /");
}

TEST(auth, typ_application_jwt_is_accepted) {
  EXPECT_FALSE(
      verify(hand_token(R"({"alg":"HS256","typ":"application/JWT"})", R"({"sub":"a"})")).ec);
}

TEST(auth, nested_values_in_claims_are_skipped) {
  const auto r = verify(hs256(
      R"({"roles":["a",{"b":[1,2,{"c":null}]},true,false,-1.5e-3],"sub":"bob","x":{}, "y":[]})"));
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(r.claims.sub, "bob");
}

// ---- header and algorithm -----------------------------------------------------------------------

TEST(auth, alg_none_is_refused) {
  const std::string unsigned_token =
      b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(R"({"sub":"mallory"})") + ".";
  const auto r = verify(unsigned_token);
  EXPECT_EQ(r.ec, jwt_error::unsupported_alg);
  EXPECT_EQ(r.reason, "alg \"none\" refused: only HS256 is accepted");
  // Even "signed" with the secret, "none" stays refused.
  EXPECT_EQ(verify(hand_token(R"({"alg":"none"})", R"({"sub":"m"})")).ec,
            jwt_error::unsupported_alg);
}

TEST(auth, other_algorithms_are_refused) {
  for (const char* alg : {"HS512", "HS384", "RS256", "ES256", "PS256", "hs256", "HS256 ", ""}) {
    const auto r = verify(hand_token(std::string(R"({"alg":")") + alg + R"("})", R"({"sub":"a"})"));
    EXPECT_EQ(r.ec, jwt_error::unsupported_alg) << alg;
  }
}

TEST(auth, bad_headers_name_the_problem) {
  struct row {
    const char* header;
    const char* reason_part;
  };
  for (const row& c : {
           row{R"({"typ":"JWT"})", "no \"alg\""},
           row{R"({"alg":256})", "\"alg\" is not a string"},
           row{R"({"alg":"HS256","typ":"JWS"})", "\"typ\" is not \"JWT\""},
           row{R"({"alg":"HS256","typ":1})", "\"typ\" is not \"JWT\""},
           row{R"({"alg":"HS256","crit":["exp"]})", "\"crit\" is not supported"},
           row{R"({"alg":"HS256","alg":"none"})", "duplicate member \"alg\""},
           row{R"(["alg","HS256"])", "expected '{'"},
           row{R"({"alg":"HS256")", "expected ',' or '}'"},
           row{"not json", "expected '{'"},
       }) {
    const auto r = verify(hand_token(c.header, R"({"sub":"a"})"));
    EXPECT_EQ(r.ec, jwt_error::bad_header) << c.header;
    EXPECT_THAT(r.reason, HasSubstr(c.reason_part)) << c.header;
  }
}

// Reasons quote attacker text only as short printable ASCII: no forged log lines.
TEST(auth, reasons_quote_attacker_text_safely) {
  auto r = verify(hand_token(R"({"alg":"HS256\nlevel=INFO user=admin \u00e9"})", R"({"sub":"a"})"));
  EXPECT_EQ(r.ec, jwt_error::unsupported_alg);
  EXPECT_EQ(r.reason, "alg \"HS256?level=INFO user=admin ??\" refused: only HS256 is accepted");
  r = verify(hs256(R"({"sub":"a","exp":)" + std::string(300, '9') + "}"));
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_EQ(r.reason, "exp " + std::string(40, '9') + "... is out of range");
  r = verify(hand_token(R"({"alg":"HS256","x\r\n":1,"x\r\n":2})", R"({"sub":"a"})"));
  EXPECT_EQ(r.ec, jwt_error::bad_header);
  EXPECT_THAT(r.reason, HasSubstr("duplicate member \"x??\""));
}

// ---- signature ----------------------------------------------------------------------------------

TEST(auth, wrong_secret_is_bad_signature) {
  const auto r = auth::verify_hs256(hs256(R"({"sub":"a"})"), "another secret", 1000);
  EXPECT_EQ(r.ec, jwt_error::bad_signature);
  EXPECT_EQ(r.reason, "signature does not match (wrong secret or tampered token)");
  EXPECT_TRUE(r.claims.sub.empty());
}

TEST(auth, empty_secret_verifies_nothing) {
  const std::string token = hand_token(R"({"alg":"HS256"})", R"({"sub":"a"})", "");
  const auto r = auth::verify_hs256(token, "", 1000);
  EXPECT_EQ(r.ec, jwt_error::bad_signature);
  EXPECT_EQ(r.reason, "no secret configured");
}

TEST(auth, tampered_payload_is_bad_signature) {
  const std::string good = hs256(R"({"sub":"alice"})");
  const std::string forged_payload = b64url(R"({"sub":"admin"})");
  const std::size_t d1 = good.find('.'), d2 = good.rfind('.');
  const std::string forged = good.substr(0, d1 + 1) + forged_payload + good.substr(d2);
  EXPECT_EQ(verify(forged).ec, jwt_error::bad_signature);
}

TEST(auth, tampered_or_truncated_signature_is_refused) {
  const std::string good = hs256(R"({"sub":"alice"})");
  std::string flipped = good;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(flipped).ec, jwt_error::bad_signature);
  // 29 of the 32 MAC bytes, encoded canonically: it decodes, then fails the length check.
  const std::string input = good.substr(0, good.rfind('.'));
  const auto truncated = verify(input + "." + b64url(hmac(secret, input).substr(0, 29)));
  EXPECT_EQ(truncated.ec, jwt_error::bad_signature);
  EXPECT_EQ(truncated.reason, "signature is 29 bytes, HS256 gives 32");
}

// A 32-byte MAC is 43 characters whose last carries 2 unused bits: a set unused bit would give
// a second spelling of the same signature, so it is refused.
TEST(auth, non_canonical_signature_encoding_is_malformed) {
  std::string good = hs256(R"({"sub":"alice"})");
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char& last = good.back();
  last = alphabet[alphabet.find(last) | 1];
  const auto r = verify(good);
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_THAT(r.reason, HasSubstr("signature is not canonical base64url"));
}

// ---- time claims --------------------------------------------------------------------------------

TEST(auth, exp_boundary_with_and_without_leeway) {
  const std::string token = hs256(R"({"sub":"a","exp":1000})");
  EXPECT_FALSE(verify(token, 999).ec);
  auto r = verify(token, 1000);
  EXPECT_EQ(r.ec, jwt_error::expired);
  EXPECT_EQ(r.reason, "token expired at 1000 (now 1000, leeway 0 s)");
  EXPECT_EQ(r.claims.sub, "a");
  EXPECT_FALSE(verify(token, 1004, 5).ec);
  r = verify(token, 1005, 5);
  EXPECT_EQ(r.ec, jwt_error::expired);
  EXPECT_EQ(r.reason, "token expired at 1000 (now 1005, leeway 5 s)");
  EXPECT_EQ(verify(token, 1000, -30).ec, jwt_error::expired);  // negative leeway counts as 0
  EXPECT_EQ(auth::http_status(r.ec), 401);
}

TEST(auth, nbf_boundary_with_and_without_leeway) {
  const std::string token = hs256(R"({"sub":"a","nbf":1000})");
  EXPECT_FALSE(verify(token, 1000).ec);
  auto r = verify(token, 999);
  EXPECT_EQ(r.ec, jwt_error::not_yet_valid);
  EXPECT_EQ(r.reason, "token not valid before 1000 (now 999, leeway 0 s)");
  EXPECT_FALSE(verify(token, 995, 5).ec);
  EXPECT_EQ(verify(token, 994, 5).ec, jwt_error::not_yet_valid);
}

TEST(auth, fractional_dates_round_to_the_stricter_side) {
  auto r = verify(hs256(R"({"sub":"a","exp":1000.9,"nbf":99.1,"iat":5e2})"), 500);
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(r.claims.exp, 1000);
  EXPECT_EQ(r.claims.nbf, 100);
  EXPECT_EQ(r.claims.iat, 500);
  EXPECT_EQ(verify(hs256(R"({"sub":"a","exp":1000.9})"), 1000).ec, jwt_error::expired);
  EXPECT_EQ(verify(hs256(R"({"sub":"a","nbf":99.1})"), 99).ec, jwt_error::not_yet_valid);
}

TEST(auth, extreme_dates_do_not_overflow) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  auto r =
      auth::verify_hs256(hs256(R"({"sub":"a","exp":9223372036854775807})"), secret, max - 1, max);
  EXPECT_FALSE(r.ec) << r.reason;
  r = auth::verify_hs256(hs256(R"({"sub":"a","nbf":-9223372036854775808})"), secret, min, max);
  EXPECT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(verify(hs256(R"({"sub":"a","exp":-5})")).ec, jwt_error::expired);
}

TEST(auth, bad_date_claims_are_malformed) {
  struct row {
    const char* payload;
    const char* reason;
  };
  for (const row& c : {
           row{R"({"sub":"a","exp":"2000"})", "exp is not a number"},
           row{R"({"sub":"a","nbf":null})", "nbf is not a number"},
           row{R"({"sub":"a","iat":[1]})", "iat is not a number"},
           row{R"({"sub":"a","exp":99999999999999999999})",
               "exp 99999999999999999999 is out of range"},
           row{R"({"sub":"a","exp":-99999999999999999999})",
               "exp -99999999999999999999 is out of range"},
           row{R"({"sub":"a","exp":1e400})", "exp 1e400 is out of range"},
           row{R"({"sub":"a","nbf":9.3e18})", "nbf 9.3e18 is out of range"},
       }) {
    const auto r = verify(hs256(c.payload));
    EXPECT_EQ(r.ec, jwt_error::malformed) << c.payload;
    EXPECT_EQ(r.reason, c.reason) << c.payload;
  }
}

// ---- sub ----------------------------------------------------------------------------------------

TEST(auth, sub_must_be_a_non_empty_string) {
  auto r = verify(hs256(R"({"name":"x","exp":5000})"));
  EXPECT_EQ(r.ec, jwt_error::missing_sub);
  EXPECT_EQ(r.reason, "token has no \"sub\" claim");
  EXPECT_EQ(r.claims.exp, 5000);
  r = verify(hs256(R"({"sub":42})"));
  EXPECT_EQ(r.ec, jwt_error::missing_sub);
  EXPECT_EQ(r.reason, "\"sub\" is not a string");
  r = verify(hs256(R"({"sub":""})"));
  EXPECT_EQ(r.ec, jwt_error::missing_sub);
  EXPECT_EQ(r.reason, "\"sub\" is empty");
}

// ---- malformed ----------------------------------------------------------------------------------

TEST(auth, wrong_shapes_are_malformed) {
  const std::string good = hs256(R"({"sub":"a"})");
  const std::string h = good.substr(0, good.find('.'));
  for (const std::string& t : {std::string{}, std::string("abc"), h + "." + h, good + ".x",
                               good + ".", "." + good, h + "..x"}) {
    EXPECT_EQ(verify(t).ec, jwt_error::malformed) << t;
  }
  EXPECT_THAT(verify("a.b").reason, HasSubstr("exactly three"));
  EXPECT_EQ(verify(h + "..x").reason, "payload is empty");
}

TEST(auth, bad_base64url_is_malformed) {
  const std::string good = hs256(R"({"sub":"a"})");
  const std::size_t d1 = good.find('.');
  std::string padded = good;
  padded.insert(d1, "=");
  auto r = verify(padded);
  EXPECT_EQ(r.ec, jwt_error::malformed);
  std::string plus = good;
  plus[1] = '+';
  r = verify(plus);
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_EQ(r.reason, "header has a non-base64url character at offset 1");
  r = verify("abcde." + good.substr(d1 + 1));
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_EQ(r.reason, "header has an impossible base64url length 5");
}

TEST(auth, overlong_token_is_malformed) {
  const std::string token = hs256(R"({"sub":"a","pad":")" + std::string(20000, 'x') + "\"}");
  const auto r = verify(token);
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_THAT(r.reason, HasSubstr("longer than 16384"));
}

// Signed payloads reach the JSON reader (json_test.cpp covers it): its refusals are malformed
// tokens whose reason carries the reader's message, its decoded strings are the claims.
TEST(auth, payload_json_is_read_strictly) {
  struct row {
    const char* payload;
    const char* reason;
  };
  for (const row& c : {
           row{R"({"sub":"a",})", "payload: invalid JSON at byte 11: expected a member name"},
           row{R"({"sub":"a","n":01})",
               "payload: invalid JSON at byte 16: leading zero in a number"},
           row{R"({"sub":"a","sub":"b"})",
               "payload: invalid JSON at byte 16: duplicate member \"sub\""},
           row{R"({"sub":"\ud800"})",
               "payload: invalid JSON at byte 14: lone high surrogate in \\u escape"},
           row{"{\"sub\":\"\xFF\"}", "payload: invalid JSON at byte 8: invalid UTF-8 in a string"},
           row{"[]", "payload: invalid JSON at byte 0: expected '{'"},
       }) {
    const auto r = verify(hs256(c.payload));
    EXPECT_EQ(r.ec, jwt_error::malformed) << c.payload;
    EXPECT_EQ(r.reason, c.reason) << c.payload;
  }
  auto r = verify(hs256(R"(  {"sub":"caf\u00e9 \ud83d\ude00","n":{"x":[1,-0.5e3,null]}}  )"));
  ASSERT_FALSE(r.ec) << r.reason;
  EXPECT_EQ(r.claims.sub, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  r = verify(hs256(R"({"sub":"a","n":)" + std::string(5000, '[') + std::string(5000, ']') + "}"));
  EXPECT_EQ(r.ec, jwt_error::malformed);
  EXPECT_THAT(r.reason, HasSubstr("nested deeper than 32"));
}

// ---- error category ----------------------------------------------------------------------------

TEST(auth, error_category_names_each_error) {
  EXPECT_STREQ(auth::jwt_category().name(), "wsx.jwt");
  const std::error_code ec = jwt_error::expired;
  EXPECT_EQ(ec.message(), "token has expired");
  EXPECT_EQ(std::error_code(jwt_error::unsupported_alg).message(), "token algorithm is not HS256");
  for (int v = 1; v <= static_cast<int>(jwt_error::missing_sub); ++v) {
    const std::error_code e{v, auth::jwt_category()};
    EXPECT_NE(e.message(), "unknown JWT error");
    EXPECT_EQ(auth::http_status(e), 401);
  }
  EXPECT_EQ(auth::http_status({}), 0);
}

// ---- token_from_request ------------------------------------------------------------------------

TEST(auth, token_from_bearer_header) {
  using auth::token_from_request;
  EXPECT_EQ(token_from_request("", "Bearer abc.def-_~+/="), "abc.def-_~+/=");
  EXPECT_EQ(token_from_request("", "bEaReR \t abc  "), "abc");
  EXPECT_EQ(token_from_request("token=q", "Bearer h"), "h");  // the header wins
  EXPECT_EQ(token_from_request("", "Bearer"), std::nullopt);
  EXPECT_EQ(token_from_request("", "Bearer "), std::nullopt);
  EXPECT_EQ(token_from_request("", "Bearerabc"), std::nullopt);
  EXPECT_EQ(token_from_request("", "Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(token_from_request("", "Bearer a b"), std::nullopt);
  EXPECT_EQ(token_from_request("", "Bearer a=b"), std::nullopt);
  EXPECT_EQ(token_from_request("", "Bearer =abc"), std::nullopt);
  // A header that carries no bearer token falls back to the query.
  EXPECT_EQ(token_from_request("token=q", "Basic x"), "q");
}

TEST(auth, token_from_query) {
  using auth::token_from_request;
  EXPECT_EQ(token_from_request("token=abc", std::nullopt), "abc");
  EXPECT_EQ(token_from_request("?room=1&token=a%2Eb%2ec&x", std::nullopt), "a.b.c");
  EXPECT_EQ(token_from_request("tok%65n=x+y%2B", std::nullopt), "x y+");
  EXPECT_EQ(token_from_request("token=first&token=second", std::nullopt), "first");
  EXPECT_EQ(token_from_request("mytoken=a&token_x=b", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("token=", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("token", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("token=%zz", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("token=abc%2", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("%zz=1&token=ok", std::nullopt), "ok");
  EXPECT_EQ(token_from_request("", std::nullopt), std::nullopt);
  EXPECT_EQ(token_from_request("?", std::nullopt), std::nullopt);
}

// ---- properties ---------------------------------------------------------------------------------

RC_GTEST_PROP(auth, random_strings_never_verify, ()) {
  const auto s = *rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::container<std::string>(rc::gen::elementOf(
          std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"))));
  const auto r = auth::verify_hs256(s, secret, 1000);
  RC_ASSERT(static_cast<bool>(r.ec));
  RC_ASSERT(!r.reason.empty());
}

RC_GTEST_PROP(auth, mutated_tokens_never_verify, ()) {
  const std::string token = hs256(R"({"sub":"alice","exp":5000,"nbf":10})");
  std::string t = token;
  const int edits = *rc::gen::inRange(1, 4);
  for (int e = 0; e < edits; ++e) {
    const int kind = *rc::gen::inRange(0, t.empty() ? 1 : 3);
    const char c = *rc::gen::oneOf(rc::gen::elementOf(std::string("ABCxyz019-_.=+/")),
                                   rc::gen::arbitrary<char>());
    if (kind == 0) {
      t.insert(*rc::gen::inRange<std::size_t>(0, t.size() + 1), 1, c);
    } else if (kind == 1) {
      t[*rc::gen::inRange<std::size_t>(0, t.size())] = c;
    } else {
      t.erase(*rc::gen::inRange<std::size_t>(0, t.size()), 1);
    }
  }
  RC_PRE(t != token);
  const auto r = auth::verify_hs256(t, secret, 1000);
  RC_ASSERT(static_cast<bool>(r.ec));
}

// Validly signed payloads made of JSON fragments (and raw bytes) reach the claim parser: it
// never crashes, and accepts only with a non-empty sub.
RC_GTEST_PROP(auth, signed_random_payloads_never_crash_the_parser, ()) {
  static const std::vector<std::string> fragments = {"{",
                                                     "}",
                                                     "[",
                                                     "]",
                                                     ":",
                                                     ",",
                                                     " ",
                                                     "\"sub\"",
                                                     "\"exp\"",
                                                     "\"nbf\"",
                                                     "\"iat\"",
                                                     "\"x\"",
                                                     "\"\"",
                                                     "1",
                                                     "-0.5e3",
                                                     "99999999999999999999",
                                                     "1e400",
                                                     "true",
                                                     "false",
                                                     "null",
                                                     "\"\\u00e9\"",
                                                     "\"\\ud83d\\ude00\"",
                                                     "\"\\ud83d\"",
                                                     "\"\\\"\"",
                                                     "\"\xC3\xA9\"",
                                                     "\xFF",
                                                     "\"\\",
                                                     "tru",
                                                     "0",
                                                     "01"};
  std::string payload;
  if (*rc::gen::arbitrary<bool>()) {
    for (const auto& f :
         *rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(fragments))) {
      payload += f;
    }
  } else {
    payload = *rc::gen::arbitrary<std::string>();
  }
  const auto r = verify(hs256(payload));
  if (!r.ec) {
    RC_ASSERT(!r.claims.sub.empty());
    RC_ASSERT(r.reason.empty());
  } else {
    RC_ASSERT(!r.reason.empty());
    RC_ASSERT(r.ec != jwt_error::bad_signature);
    RC_ASSERT(r.ec != jwt_error::bad_header);
  }
}

}  // namespace
