// The pump's mailbox: the calls other threads make on a session (send, ping, close, the answer
// to a deferred upgrade), queued under a mutex until the connection's loop applies them in
// order after one wake-up (pump_commands.cpp). Internal to transports/common.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "pump.hpp"

namespace wsx {

struct pump::command {
  struct send {
    message_kind kind;
    std::vector<std::byte> payload;
    std::size_t reserved;  // what admit() set aside for it in queued_
  };
  struct send_shared {
    shared_message msg;
  };
  struct ping {
    std::vector<std::byte> payload;
    std::size_t reserved;
  };
  struct close {
    close_code code;
    std::string reason;
  };
  struct upgrade {
    upgrade_decision decision;
  };
  std::variant<send, send_shared, ping, close, upgrade> what;
};

struct pump::mailbox {
  std::mutex mutex;
  std::vector<command> mail;
  bool wake_pending = false;  // guarded by mutex
};

}  // namespace wsx
