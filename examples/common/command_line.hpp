// The examples' command lines, one rule for every program: `--help` (or `-h`) prints the usage
// on stdout and exits 0; an unknown option, a missing value or a bad one prints one line that
// names it ("PROGRAM: --port: 99999 is not a port (0-65535)") and a pointer to --help on stderr,
// and exits 2. Core only and no Asio: the poll examples use it too.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

// Takes an option's value (or a positional argument) into the program's options. Returns the
// empty string when the value was taken, else what is wrong with it, said after the value:
// "is not a port (0-65535)" gives "--port: 99999 is not a port (0-65535)".
using value_reader = std::function<std::string(std::string_view value)>;

class command_line {
 public:
  // `usage`: the whole usage text, "usage: PROGRAM ..." and any lines after it, no final newline.
  command_line(std::string program, std::string usage);

  // `--NAME` with no value: sets `out` to true.
  void add_switch(std::string_view name, bool& out);
  // `--NAME VALUE`: `read` takes VALUE. Given twice, the last one counts.
  void add_option(std::string_view name, value_reader read);
  // The next argument that does not start with '-' (in order of the calls); `what` names it in
  // errors ("URL: http://x is not a ws:// URL").
  void add_positional(std::string_view what, value_reader read);

  // Reads argv[1..argc). Returns std::nullopt when the program should go on, or the exit status
  // it should return now: 0 after --help (usage on stdout), 2 after a bad argument (its error on
  // stderr). A positional argument that is missing is not an error here: the
  // program checks what it requires after parse() and calls fail().
  std::optional<int> parse(int argc, char** argv) const;

  // Prints "PROGRAM: message" and a pointer to --help on stderr; returns 2, the exit status.
  int fail(std::string_view message) const;

  const std::string& program() const { return program_; }

 private:
  struct option {
    std::string name;
    bool takes_value = false;
    value_reader read;
  };
  struct positional {
    std::string what;
    value_reader read;
  };

  std::string program_;
  std::string usage_;
  std::vector<option> options_;
  std::vector<positional> positionals_;
};

// Value readers for the common kinds. Each sets `out` only when the value is good.
value_reader read_port(std::uint16_t& out);                // 0-65535 ("is not a port (0-65535)")
value_reader read_count(unsigned& out, unsigned minimum);  // a whole number >= minimum
value_reader read_text(std::string& out);                  // any non-empty text ("is empty")

}  // namespace examples
