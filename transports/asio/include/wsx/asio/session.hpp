// What the Asio server and client share: the session handle, the handlers, the default core
// configuration. Include wsx/asio/server.hpp or wsx/asio/client.hpp rather than this alone.
//
// A session is a wsx::session (transports/common/include/wsx/common/session.hpp): send, send_text,
// send_shared, ping, close, buffered_amount, remote_endpoint, user_id — every member safe from
// any thread; after the end every command returns wsx::errc::closed. Handlers run on the
// session's strand, or on the io_context's one thread with server_options::single_threaded
// (see wsx::session_handlers in wsx/common/handlers.hpp).
#pragma once

#include "wsx/common/handlers.hpp"
#include "wsx/common/session.hpp"
#include "wsx/config.hpp"

namespace wsx::asio {

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

}  // namespace wsx::asio
