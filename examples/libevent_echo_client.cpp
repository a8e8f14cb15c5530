// libevent_echo_client: the Autobahn-style client driver for a fuzzing server, on
// wsx::libevent::client.
//
// Theory of operation: examples/common/conformance_driver.cpp walks the fuzzing server's cases
// (/getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A), one connection at a time,
// with the options every transport's driver shares (examples/common/echo_client.hpp: messages
// echoed whole with their own opcode); this file opens each connection: a client attached to a
// fresh event_base, one connect(), and event_base_dispatch(), which returns as soon as the
// connection is over (wsx leaves nothing on the base).
//
// usage: libevent_echo_client --agent NAME [--verbose] [--deflate] ws://127.0.0.1:PORT
#include <event2/event.h>

#include <cstdio>
#include <string>

#include "wsx/libevent/client.hpp"

#include "common/echo_client.hpp"

namespace {

constexpr const char* program = "libevent_echo_client";

bool run_one(const examples::echo_client_args& args, const std::string& target,
             std::string* last_text) {
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "%s: cannot make an event_base\n", program);
    return false;
  }
  bool opened = false;
  {
    wsx::libevent::client c(base, examples::echo_client_options<wsx::libevent::client_options>(
                                      program, args, target, opened, last_text));
    c.connect(args.base_url + target);
    event_base_dispatch(base);  // returns when the connection's socket is closed
  }
  event_base_free(base);
  return opened;
}

}  // namespace

int main(int argc, char** argv) { return examples::run_echo_client(program, argc, argv, run_one); }
