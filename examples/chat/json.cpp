// The chat's JSON reader and writer.
//
// The reader is a single pass over one object: '{', then `"name" : "value"` pairs separated by
// ',', then '}' and only whitespace after it (RFC 8259 §4). Strings are decoded as they are read
// (§7): the two-character escapes, and \uXXXX turned into UTF-8 with surrogate pairs joined;
// a lone surrogate or U+0000 is refused so that decoded text stays valid UTF-8 and C-string
// safe. Raw bytes below 0x20 inside a string are refused as §7 requires. The writer escapes the
// same set in reverse.
#include "json.hpp"

#include <charconv>

namespace chat::json {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

class reader {
 public:
  explicit reader(std::string_view text) : text_(text) {}

  parse_result parse() {
    parse_result r;
    skip_space();
    if (!eat('{')) return fail("expected '{'");
    skip_space();
    if (eat('}')) return finish(std::move(r));
    for (;;) {
      skip_space();
      std::string name;
      if (!read_string(name)) return fail(error_.empty() ? "expected a member name" : error_);
      for (const auto& m : r.object.members) {
        if (m.first == name) return fail("duplicate member \"" + name + "\"");
      }
      skip_space();
      if (!eat(':')) return fail("expected ':'");
      skip_space();
      std::string value;
      if (!read_string(value)) {
        return fail(error_.empty() ? "member \"" + name + "\" must be a string" : error_);
      }
      r.object.members.emplace_back(std::move(name), std::move(value));
      skip_space();
      if (eat('}')) return finish(std::move(r));
      if (!eat(',')) return fail("expected ',' or '}'");
    }
  }

 private:
  parse_result finish(parse_result r) {
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected bytes after the object");
    return r;
  }

  parse_result fail(const std::string& what) const {
    parse_result r;
    r.error = what + " at byte " + std::to_string(pos_);
    return r;
  }

  void skip_space() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool eat(char c) noexcept {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Reads four hex digits. False (error_ set) on anything else.
  bool read_hex4(unsigned& out) {
    if (text_.size() - pos_ < 4) {
      error_ = "truncated \\u escape";
      return false;
    }
    const char* first = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, first + 4, out, 16);
    if (ec != std::errc{} || end != first + 4) {
      error_ = "bad \\u escape";
      return false;
    }
    pos_ += 4;
    return true;
  }

  static void append_utf8(std::string& out, unsigned cp) {
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

  // The code point of a \u escape whose "\u" was just read, surrogate pairs joined (§7).
  bool read_escaped_code_point(unsigned& cp) {
    if (!read_hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      error_ = "lone low surrogate in \\u escape";
      return false;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned low = 0;
      if (!eat('\\') || !eat('u') || !read_hex4(low) || low < 0xDC00 || low > 0xDFFF) {
        error_ = "lone high surrogate in \\u escape";
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp == 0) {
      error_ = "\\u0000 is not accepted";
      return false;
    }
    return true;
  }

  // Reads a string literal into `out`. False when the next value is no string (error_ empty) or
  // the string is malformed (error_ says how).
  bool read_string(std::string& out) {
    error_.clear();
    if (!eat('"')) return false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) {
        error_ = "raw control character in a string";
        return false;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ == text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!read_escaped_code_point(cp)) return false;
          append_utf8(out, cp);
          break;
        }
        default:
          error_ = "unknown escape \\" + std::string(1, e);
          return false;
      }
    }
    error_ = "unterminated string";
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
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

std::optional<std::string_view> flat_object::get(std::string_view name) const noexcept {
  for (const auto& m : members) {
    if (m.first == name) return std::string_view(m.second);
  }
  return std::nullopt;
}

parse_result parse_flat_object(std::string_view text) { return reader(text).parse(); }

void object_writer::name(std::string_view n) {
  if (out_.size() > 1) out_ += ',';
  append_quoted(out_, n);
  out_ += ':';
}

object_writer& object_writer::field(std::string_view n, std::string_view value) {
  name(n);
  append_quoted(out_, value);
  return *this;
}

object_writer& object_writer::field(std::string_view n, std::int64_t value) {
  name(n);
  out_ += std::to_string(value);
  return *this;
}

object_writer& object_writer::field(std::string_view n, const std::vector<std::string>& values) {
  name(n);
  out_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out_ += ',';
    append_quoted(out_, values[i]);
  }
  out_ += ']';
  return *this;
}

object_writer& object_writer::raw_field(std::string_view n, std::string_view json) {
  name(n);
  out_ += json;
  return *this;
}

std::string object_writer::finish() {
  out_ += '}';
  std::string done = std::move(out_);
  out_ = "{";
  return done;
}

}  // namespace chat::json
