// The examples' log lines for the server observer. A handshake failure says who (the peer's
// address), what the client got ("refused" with the status and reason, or "failed" and why when
// nothing was sent), who refused it and how long after the accept; a session end says who (address
// and user), the close code and reason, how long the session lasted and, when it did not end with a
// normal closing handshake, the error. Control characters a client put in a reason are shown
// as '?', so a line stays one line.
#include "observer_log.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

namespace examples {
namespace {

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return out;
}

std::string seconds_text(wsx::duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  }
  return buf;
}

}  // namespace

std::string describe(const wsx::handshake_failure& f) {
  std::string line = printable(f.remote_endpoint);
  // Status 0: no answer went out (the peer left, a deadline, TLS, shutdown).
  line += f.status != 0 ? " handshake refused: " + std::to_string(f.status) + " "
                        : std::string(" handshake failed: ");
  line += printable(f.reason) + " [" + std::string(to_string(f.source));
  if (f.source == wsx::handshake_failure_source::transport) line += ", " + f.ec.message();
  return line + ", after " + seconds_text(f.elapsed) + "]";
}

std::string describe(const wsx::session_end& e) {
  std::string line = printable(e.session->remote_endpoint());
  if (!e.session->user_id().empty()) line += " " + printable(e.session->user_id());
  line += " ended: " + std::to_string(static_cast<unsigned>(e.code)) + " '" + printable(e.reason) +
          "' after " + seconds_text(e.duration);
  if (e.ec) line += " [" + e.ec.message() + "]";
  return line;
}

void log_to_stderr(wsx::server_observer& observer, std::string program) {
  observer.on_handshake_failure = [program](const wsx::handshake_failure& f) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), describe(f).c_str());
  };
  observer.on_session_end = [program = std::move(program)](const wsx::session_end& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), describe(e).c_str());
  };
}

}  // namespace examples
