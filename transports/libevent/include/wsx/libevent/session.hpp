// What the libevent server and client share: the session handle, the handlers, the default core
// configuration. Include wsx/libevent/server.hpp or wsx/libevent/client.hpp rather than this
// alone.
//
// A session is a wsx::session (transports/common/include/wsx/common/session.hpp): send, send_text,
// send_shared, ping, close, buffered_amount, remote_endpoint, user_id — every member safe from
// any thread; after the end every command returns wsx::errc::closed. Handlers run on the thread
// of the session's event_base, one at a time per session (see wsx::session_handlers in
// wsx/common/handlers.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "wsx/common/handlers.hpp"
#include "wsx/common/session.hpp"
#include "wsx/config.hpp"

namespace wsx::libevent {

using wsx::session_handlers;
using wsx::session_ptr;

// The core configuration servers and clients start from: wsx::config's defaults, except that
// messages are delivered whole (session_handlers::on_message). For streaming delivery set
// `delivery = wsx::delivery::chunks` and use session_handlers::on_chunk.
inline wsx::config default_config() {
  wsx::config cfg;
  cfg.delivery = wsx::delivery::whole_messages;
  return cfg;
}

// Session handles alive in the process, servers' and clients' together (a leak check).
inline std::size_t live_sessions() noexcept { return wsx::live_session_count(); }

// An address and port: "127.0.0.1" / "::1" and the port, as a server is bound.
struct endpoint {
  std::string address;
  std::uint16_t port = 0;
  // "127.0.0.1:9001", or "[::1]:9001" for IPv6.
  std::string to_string() const {
    const bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
  }
};

}  // namespace wsx::libevent
