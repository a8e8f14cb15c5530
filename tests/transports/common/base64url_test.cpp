// The base64url codec of transports/common/src/base64url.hpp (JWTs): RFC 4648 §10's vectors in
// the URL alphabet without padding, every refusal named, and as properties: any bytes survive a
// round trip, and every accepted string is the one encoding of what it decodes to (canonical).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base64url.hpp"

namespace {

using wsx::detail::base64url_decode;
using wsx::detail::base64url_encode;

std::string decoded(std::string_view in) {
  std::string out;
  const std::string why = base64url_decode(in, out);
  EXPECT_EQ(why, "") << in;
  return out;
}

std::string refusal(std::string_view in) {
  std::string out;
  return base64url_decode(in, out);
}

TEST(base64url, rfc4648_vectors_without_padding) {
  const std::vector<std::pair<std::string, std::string>> vectors{
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    EXPECT_EQ(decoded(encoded), plain);
  }
}

TEST(base64url, uses_the_url_alphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");  // '+' and '/' in standard base64
  EXPECT_EQ(decoded("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(base64url_encode(R"({"alg":"HS256","typ":"JWT"})"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST(base64url, refuses_padding_other_alphabets_bad_lengths_and_unused_bits) {
  EXPECT_EQ(refusal("Zg=="), "has a non-base64url character at offset 2");
  EXPECT_EQ(refusal("+/+/"), "has a non-base64url character at offset 0");
  EXPECT_EQ(refusal("Zm9 vg"), "has a non-base64url character at offset 3");
  EXPECT_EQ(refusal("Zm9vY"), "has an impossible base64url length 5");
  EXPECT_EQ(refusal("A"), "has an impossible base64url length 1");
  // "Zh" is 'f' plus a set bit past its 8: another spelling of "Zg", refused.
  EXPECT_EQ(refusal("Zh"), "is not canonical base64url (unused bits set in its last character)");
  EXPECT_EQ(refusal("Zm9"), "is not canonical base64url (unused bits set in its last character)");
}

RC_GTEST_PROP(base64url, any_bytes_round_trip, (const std::string& bytes)) {
  const std::string encoded = base64url_encode(bytes);
  RC_ASSERT(encoded.size() == (bytes.size() * 4 + 2) / 3);
  RC_ASSERT(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_") == std::string::npos);
  std::string out;
  RC_ASSERT(base64url_decode(encoded, out).empty());
  RC_ASSERT(out == bytes);
}

RC_GTEST_PROP(base64url, an_accepted_string_is_the_one_encoding_of_its_bytes, ()) {
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/";
  const std::string in = *rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  std::string out;
  if (base64url_decode(in, out).empty()) {
    RC_ASSERT(base64url_encode(out) == in);
  } else {
    RC_TAG("refused");
  }
}

}  // namespace
