// The session handle: every command checks that the session is still open, then forwards to
// the connection's pump — directly when that pump's settle is running on this thread (a handler
// calling its own session), otherwise through the locked weak reference, which keeps the pump
// alive for the call. Once the pump is gone every command returns errc::closed.
#include "pump_session.hpp"

#include <utility>

#include "pump.hpp"

namespace wsx {

std::size_t live_session_count() noexcept { return pump_session::live_count(); }

pump_session::pump_session(std::string user_id, std::string remote_endpoint, std::weak_ptr<pump> p)
    : session(std::move(user_id)), remote_(std::move(remote_endpoint)), pump_(std::move(p)) {
  live_.fetch_add(1, std::memory_order_acq_rel);
}

pump_session::~pump_session() { live_.fetch_sub(1, std::memory_order_acq_rel); }

pump_session::target pump_session::pump_for_call() const noexcept {
  // `this` is alive (its member is running) and so is the settling pump; if that pump's handle
  // is this object, it is this session's pump. Comparing raw pump addresses instead could match
  // a new pump that reuses the memory of this session's finished one.
  if (pump* const here = pump::settling_here_; here != nullptr && here->handle_.get() == this) {
    return {nullptr, here};
  }
  std::shared_ptr<pump> locked = pump_.lock();
  pump* const raw = locked.get();
  return {std::move(locked), raw};
}

std::error_code pump_session::send(message_kind kind, bytes_view payload) {
  if (!is_open()) return errc::closed;
  const target t = pump_for_call();
  return t.p ? t.p->send(kind, payload) : make_error_code(errc::closed);
}

std::error_code pump_session::send_shared(const shared_message& msg) {
  if (!is_open()) return errc::closed;
  const target t = pump_for_call();
  return t.p ? t.p->send_shared(msg) : make_error_code(errc::closed);
}

std::error_code pump_session::ping(bytes_view payload) {
  if (!is_open()) return errc::closed;
  const target t = pump_for_call();
  return t.p ? t.p->ping(payload) : make_error_code(errc::closed);
}

std::error_code pump_session::close(close_code code, std::string_view reason) {
  if (!is_open()) return errc::closed;
  const target t = pump_for_call();
  return t.p ? t.p->close(code, reason) : make_error_code(errc::closed);
}

std::size_t pump_session::buffered_amount() const noexcept {
  if (!is_open()) return 0;
  const target t = pump_for_call();
  return t.p ? t.p->buffered_amount() : 0;
}

}  // namespace wsx
