// The pump's state, each part named (pump.hpp holds one of each; the transitions are listed at the
// top of pump.cpp). Internal to wsx, part of the pump.
#pragma once

#include <cstdint>

namespace wsx {

// Where the session is (loop only).
enum class pump_phase : std::uint8_t {
  connecting,         // client: the socket is not up yet
  handshaking,        // the socket is up, the upgrade is under way
  upgrade_pending,    // server: the request is with the hook (or deferred), not answered yet
  refused,            // server: the upgrade was refused (rejected); the observer was told
  serving_http,       // server: a plain HTTP request went to on_http; no session follows
  open,               // the upgrade succeeded: counted open, inserted in the table
  ended,              // the session's end was processed (on_close ran); output may still go out
  transport_closing,  // close_gracefully() or close_now() was called: nothing more to do
};

// Where the session's writing is (loop only).
enum class pump_write_state : std::uint8_t {
  unconnected,  // client: no socket yet, nothing may be written
  idle,         // nothing outstanding: flush() may write
  in_flight,    // a write is outstanding: on_write_complete() follows
  failed,       // the socket failed: nothing more reaches the peer
};

// How the session ended, which decides how the socket closes.
enum class pump_end_kind : std::uint8_t {
  not_yet,       // the session has not ended
  answered,      // an end after which the peer may still read: close politely
  unresponsive,  // the peer stopped answering or reading (a heartbeat, write or close deadline):
                 // close at once
};

// Where the session handle lives.
enum class pump_handle_storage : std::uint8_t {
  own_block,         // made by the pump, in a block of its own
  transport_object,  // a member of the transport's object, which the handles keep alive
};

}  // namespace wsx
