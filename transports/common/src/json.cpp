// Strict JSON: one object read, strings written.
//
// The reader is a single pass with a cursor: '{', then `"name" : value` pairs separated by ',',
// then '}' and only whitespace after it (RFC 8259 §4). Top-level string values are decoded as
// they are read (§7: the two-character escapes, and \uXXXX turned into UTF-8 with surrogate
// pairs joined); numbers are checked against the §6 grammar and kept as written; nested objects
// and arrays are validated by a depth-limited recursive skip and dropped. Raw bytes must be
// valid UTF-8 (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF). The first problem
// stops the pass and is reported with the cursor's byte offset. The writer escapes the
// characters §7 requires and nothing else.
#include "wsx/common/json.hpp"

#include <charconv>
#include <unordered_set>
#include <utility>

namespace wsx::json {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  read_result read() {
    read_result r;
    std::unordered_set<std::string> names;
    skip_ws();
    if (!take('{')) return fail("expected '{'");
    skip_ws();
    if (!take('}')) {
      for (;;) {
        skip_ws();
        member m;
        if (!peek('"')) return fail("expected a member name");
        if (!read_string(m.name)) return failed();
        if (!names.insert(m.name).second) {
          return fail("duplicate member \"" + loggable(m.name) + "\"");
        }
        skip_ws();
        if (!take(':')) return fail("expected ':'");
        skip_ws();
        m.offset = pos_;
        if (!read_member_value(m.value)) return failed();
        r.object.members.push_back(std::move(m));
        skip_ws();
        if (take(',')) continue;
        if (take('}')) break;
        return fail("expected ',' or '}'");
      }
    }
    skip_ws();
    if (pos_ != in_.size()) return fail("trailing characters after the object");
    return r;
  }

 private:
  bool peek(char c) const noexcept { return pos_ < in_.size() && in_[pos_] == c; }
  bool take(char c) noexcept {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  void skip_ws() noexcept {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // Records the first problem at the cursor; false, for `return fail_bool(...)` in the readers.
  bool fail_bool(std::string what) {
    error_ = std::move(what);
    error_offset_ = pos_;
    return false;
  }
  read_result fail(std::string what) {
    fail_bool(std::move(what));
    return failed();
  }
  read_result failed() {
    read_result r;
    r.error = std::move(error_);
    r.error_offset = error_offset_;
    return r;
  }
  unsigned char byte_at(std::size_t i) const noexcept { return static_cast<unsigned char>(in_[i]); }

  bool read_member_value(value& v) {
    if (pos_ >= in_.size()) return fail_bool("expected a value");
    const char c = in_[pos_];
    if (c == '"') {
      v.type = kind::string;
      return read_string(v.text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = kind::number;
      const std::size_t start = pos_;
      if (!read_number()) return false;
      v.text.assign(in_.substr(start, pos_ - start));
      return true;
    }
    if (c == '{' || c == '[') v.type = c == '{' ? kind::object : kind::array;
    if (c == 't' || c == 'f') v.type = kind::boolean;
    if (c == 'n') v.type = kind::null;
    return skip_value(1);
  }

  // Validates and skips any value; `depth` counts the containers around it.
  bool skip_value(int depth) {
    if (depth > max_depth) return fail_bool("nested deeper than " + std::to_string(max_depth));
    if (pos_ >= in_.size()) return fail_bool("expected a value");
    const char c = in_[pos_];
    if (c == '"') {
      std::string scratch;
      return read_string(scratch);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return read_number();
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    if (c != '{' && c != '[') return fail_bool("expected a value");
    const bool is_object = c == '{';
    const char close = is_object ? '}' : ']';
    ++pos_;
    skip_ws();
    if (take(close)) return true;
    for (;;) {
      skip_ws();
      if (is_object) {
        std::string scratch;
        if (!peek('"')) return fail_bool("expected a member name");
        if (!read_string(scratch)) return false;
        skip_ws();
        if (!take(':')) return fail_bool("expected ':'");
        skip_ws();
      }
      if (!skip_value(depth + 1)) return false;
      skip_ws();
      if (take(',')) continue;
      if (take(close)) return true;
      return fail_bool(is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return fail_bool("expected a value");
    pos_ += word.size();
    return true;
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool read_number() {
    const auto digit = [&] { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; };
    const auto digits = [&] {
      if (!digit()) return false;
      while (digit()) ++pos_;
      return true;
    };
    take('-');
    if (take('0')) {
      if (digit()) return fail_bool("leading zero in a number");
    } else if (!digits()) {
      return fail_bool("expected a digit");
    }
    if (take('.') && !digits()) return fail_bool("expected a digit after '.'");
    if (take('e') || take('E')) {
      if (!take('+')) take('-');
      if (!digits()) return fail_bool("expected a digit in the exponent");
    }
    return true;
  }

  // Four hex digits of a \u escape; on a bad one the cursor is left on it.
  bool hex4(unsigned& out) {
    if (in_.size() - pos_ < 4) return fail_bool("truncated \\u escape");
    const char* first = in_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, first + 4, out, 16);
    if (ec != std::errc{} || end != first + 4) {
      pos_ += static_cast<std::size_t>(end - first);
      return fail_bool("bad hex digit in \\u escape");
    }
    pos_ += 4;
    return true;
  }

  // Length of the valid UTF-8 sequence at pos_ (RFC 3629 §4: no overlongs, no surrogates,
  // at most U+10FFFF), or 0 when there is none.
  std::size_t utf8_sequence_length() const noexcept {
    const unsigned char b0 = byte_at(pos_);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (in_.size() - pos_ < len) return 0;
    const unsigned char b1 = byte_at(pos_ + 1);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
      if ((byte_at(pos_ + k) & 0xC0) != 0x80) return 0;
    }
    return len;
  }

  // Reads a string starting at the opening quote into `out` (decoded).
  bool read_string(std::string& out) {
    out.clear();
    ++pos_;  // the opening quote
    for (;;) {
      if (pos_ >= in_.size()) return fail_bool("unterminated string");
      const unsigned char c = byte_at(pos_);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail_bool("control character in a string");
      if (c >= 0x80) {
        const std::size_t len = utf8_sequence_length();
        if (len == 0) return fail_bool("invalid UTF-8 in a string");
        out.append(in_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= in_.size()) return fail_bool("unterminated string");
      const char e = in_[pos_++];
      // RFC 8259 §7: the two-character escapes, then \uXXXX (UTF-16, surrogates paired).
      constexpr std::string_view simple = "\"\\/bfnrt", decoded = "\"\\/\b\f\n\r\t";
      if (const std::size_t k = simple.find(e); k != std::string_view::npos) {
        out += decoded[k];
        continue;
      }
      if (e != 'u') {
        --pos_;
        return fail_bool("bad escape in a string");
      }
      unsigned cp = 0;
      if (!hex4(cp)) return false;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail_bool("lone low surrogate in \\u escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned low = 0;
        if (!take('\\') || !take('u')) return fail_bool("lone high surrogate in \\u escape");
        if (!hex4(low)) return false;
        if (low < 0xDC00 || low > 0xDFFF) return fail_bool("lone high surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      append_utf8(out, cp);
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_offset_ = 0;
};

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex_digits[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += hex_digits[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string quoted(std::string_view s) {
  std::string out;
  append_quoted(out, s);
  return out;
}

const member* object::find(std::string_view name) const noexcept {
  for (const member& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string read_result::message() const {
  if (error.empty()) return {};
  return "invalid JSON at byte " + std::to_string(error_offset) + ": " + error;
}

read_result read_object(std::string_view text) { return reader(text).read(); }

std::string loggable(std::string_view s) {
  constexpr std::size_t max = 40;
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u > 0x7E ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace wsx::json
