// The examples' command lines.
//
// A program registers its options (switches, options with a value, positional arguments) with a
// value_reader each, then calls parse(): one pass over argv that stops at the first problem and
// names it. --help wins wherever it is, so `PROGRAM --port 99999 --help` prints the usage and
// exits 0, as a user asking for help expects. Errors go to stderr, one line and a pointer to
// --help, so a script's stdout never mixes usage text with a program's output.
#include "command_line.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace examples {

namespace {

// All of `text` as an unsigned decimal number: no sign, no spaces, no overflow.
bool parse_unsigned(std::string_view text, unsigned long long& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

command_line::command_line(std::string program, std::string usage)
    : program_(std::move(program)), usage_(std::move(usage)) {}

void command_line::add_switch(std::string_view name, bool& out) {
  options_.push_back({std::string(name), false, [&out](std::string_view) {
                        out = true;
                        return std::string();
                      }});
}

void command_line::add_option(std::string_view name, value_reader read) {
  options_.push_back({std::string(name), true, std::move(read)});
}

void command_line::add_positional(std::string_view what, value_reader read) {
  positionals_.push_back({std::string(what), std::move(read)});
}

std::optional<int> command_line::parse(int argc, char** argv) const {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", usage_.c_str());
      return 0;
    }
  }
  std::size_t next_positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with('-') || arg == "-") {
      if (next_positional == positionals_.size()) {
        return fail("unexpected argument '" + std::string(arg) + "'");
      }
      const positional& p = positionals_[next_positional++];
      if (std::string why = p.read(arg); !why.empty()) {
        return fail(p.what + ": " + std::string(arg) + " " + why);
      }
      continue;
    }
    const option* found = nullptr;
    for (const option& o : options_) {
      if (o.name == arg) found = &o;
    }
    if (found == nullptr) return fail("unknown option " + std::string(arg));
    if (!found->takes_value) {
      found->read({});
      continue;
    }
    if (i + 1 >= argc) return fail(found->name + " needs a value");
    const std::string_view value = argv[++i];
    if (std::string why = found->read(value); !why.empty()) {
      return fail(found->name + ": " + (value.empty() ? "''" : std::string(value)) + " " + why);
    }
  }
  return std::nullopt;
}

int command_line::fail(std::string_view message) const {
  std::fprintf(stderr, "%s: %.*s\n(%s --help shows the options)\n", program_.c_str(),
               static_cast<int>(message.size()), message.data(), program_.c_str());
  return 2;
}

value_reader read_port(std::uint16_t& out) {
  return [&out](std::string_view value) {
    unsigned long long n = 0;
    if (!parse_unsigned(value, n) || n > std::numeric_limits<std::uint16_t>::max()) {
      return std::string("is not a port (0-65535)");
    }
    out = static_cast<std::uint16_t>(n);
    return std::string();
  };
}

value_reader read_count(unsigned& out, unsigned minimum) {
  return [&out, minimum](std::string_view value) {
    unsigned long long n = 0;
    if (!parse_unsigned(value, n) || n < minimum || n > std::numeric_limits<unsigned>::max()) {
      return "is not a whole number of at least " + std::to_string(minimum);
    }
    out = static_cast<unsigned>(n);
    return std::string();
  };
}

value_reader read_text(std::string& out) {
  return [&out](std::string_view value) {
    if (value.empty()) return std::string("is empty");
    out = std::string(value);
    return std::string();
  };
}

}  // namespace examples
