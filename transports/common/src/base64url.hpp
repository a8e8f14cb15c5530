// base64url (RFC 4648 §5) without padding (RFC 7515 §2), as JWTs use it. Internal to
// transports/common (the JWT helpers in auth.cpp) and to the JWT fuzzer, which signs tokens of
// its own with the same encoder; not installed.
#pragma once

#include <string>
#include <string_view>

namespace wsx::detail {

// The encoding of `in`: ceil(4 * size / 3) characters of A-Z a-z 0-9 - _, no '=' padding; the
// unused low bits of the last character are zero.
std::string base64url_encode(std::string_view in);

// Decodes `in` into `out` (cleared first). Returns an empty string on success, else what is wrong
// with `in` (a phrase to follow the name of the part, e.g. "has a non-base64url character at
// offset 3"); `out` then holds what was decoded before the fault. Refuses padding, characters
// outside the URL alphabet, a length of 4k+1 and non-zero unused bits in the last character, so
// that every byte string has exactly one accepted encoding: the one base64url_encode gives.
std::string base64url_decode(std::string_view in, std::string& out);

}  // namespace wsx::detail
