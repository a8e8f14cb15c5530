// The session handle every transport hands to applications (a wsx::session): a weak reference
// to the connection's pump, so that it never keeps a finished connection's memory alive. Internal
// to wsx; see pump.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "wsx/common/session.hpp"
#include "wsx/shared_message.hpp"
#include "wsx/types.hpp"

namespace wsx {

class pump;

class pump_session final : public session {
 public:
  pump_session(std::string user_id, std::string remote_endpoint, std::weak_ptr<pump> p);
  ~pump_session() override;

  std::error_code send(message_kind kind, bytes_view payload) override;
  std::error_code send_shared(const shared_message& msg) override;
  std::error_code ping(bytes_view payload) override;
  std::error_code close(close_code code, std::string_view reason) override;
  std::size_t buffered_amount() const noexcept override;
  std::string remote_endpoint() const override { return remote_; }

  // Handles alive in the process (tests use it to prove that no session leaks).
  static std::size_t live_count() noexcept { return live_.load(std::memory_order_acquire); }

 private:
  friend class pump;
  void end() noexcept { mark_ended(); }
  const std::weak_ptr<pump>& pump_ref() const noexcept { return pump_; }
  // The pump a call goes to: when one of its handlers is running on this thread (the handler
  // has called its own session, the common case) the settling pump itself, without a weak_ptr
  // lock; otherwise the locked weak reference, which `keep` holds for the call. `p` is null once
  // the pump is gone.
  struct target {
    std::shared_ptr<pump> keep;
    pump* p = nullptr;
  };
  target pump_for_call() const noexcept;

  std::string remote_;
  std::weak_ptr<pump> pump_;
  static inline std::atomic<std::size_t> live_{0};
};

}  // namespace wsx
