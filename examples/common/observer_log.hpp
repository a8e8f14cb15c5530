// What the server examples (asio_echo_server --verbose, chat) log through wsx's server observer:
// one line on stderr per refused or failed handshake and per session end. Transport-independent:
// any transport's server_options has the `observer` field this fills.
//
//   chat: 127.0.0.1:41230 handshake refused: 401 no token: connect to /ws?token=<JWT>
//       [application, after 0.3 ms]
//   chat: 127.0.0.1:41234 handshake failed: connection closed during the opening handshake
//       [peer, after 0.1 ms]
//   chat: 127.0.0.1:41236 alice ended: 1000 'bye' after 12.5 s
//   chat: 127.0.0.1:41238 bob ended: 1006 'connection closed without a close frame' after
//       3.1 s [connection ended (EOF or reset) before the closing handshake]
#pragma once

#include <string>

#include "wsx/common/observer.hpp"

namespace examples {

// Sets both of `observer`'s callbacks to print such lines, each prefixed "PROGRAM: ". Each line
// is written with one fprintf, so lines from different loop threads do not interleave.
void log_to_stderr(wsx::server_observer& observer, std::string program);

// The line for each event, without the prefix and the newline (what log_to_stderr prints).
std::string describe(const wsx::handshake_failure& f);
std::string describe(const wsx::session_end& e);

}  // namespace examples
