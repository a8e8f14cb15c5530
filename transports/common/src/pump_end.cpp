// How a session ends, whatever ends it: finalize() — the one path every end takes (out of the
// table, counted, on_close, then the observer's session end; for a server connection that ended
// before anyone answered its upgrade, the observer's handshake failure) —, the transport's
// failures to set a connection up, shutdown, and the destructor for a pump whose loop
// was torn down under it (table and stats only: no handler, no observer). The observer's
// handshake failures for refused upgrades come from on_rejected() (pump_events.cpp).
#include <utility>

#include "pump_mailbox.hpp"

namespace wsx {

pump::~pump() {
  const std::unique_ptr<mailbox> box(mailbox_.load(std::memory_order_acquire));
  // The loop was torn down under a live session: keep the table and the stats right.
  end_without_handlers();
}

void pump::end_without_handlers() noexcept {
  if (finalized()) return;
  const bool was_open = phase_ == phase::open;
  phase_ = phase::ended;
  end_ = end_kind::answered;
  ended_.store(true, std::memory_order_release);
  sendable_.store(false, std::memory_order_release);
  own_handle().end();
  if (was_open) {
    if (ctx_->table) ctx_->table->erase(own_handle());
    if (ctx_->counters) ctx_->counters->count_close(close_code::abnormal, errc::closed);
  }
}

std::shared_ptr<session> pump::release_handle() noexcept {
  if (storage_ != handle_storage::transport_object || !handle_) return nullptr;
  end_without_handlers();
  // The transport lets go when its socket is closed, so the pump is at its end too: nothing can
  // reach the socket any more, and no command is applied after this.
  phase_ = phase::transport_closing;
  return std::move(handle_);
}

void pump::finalize(close_code code, std::string_view reason, std::error_code ec, time_point now) {
  if (finalized()) return;
  const phase was = phase_;
  phase_ = phase::ended;
  const bool unresponsive =
      ec == errc::heartbeat_timeout || ec == errc::write_timeout || ec == errc::close_timeout;
  end_ = unresponsive ? end_kind::unresponsive : end_kind::answered;
  ended_.store(true, std::memory_order_release);
  sendable_.store(false, std::memory_order_release);
  own_handle().end();
  if (ctx_->side == role::server && (was == phase::handshaking || was == phase::upgrade_pending)) {
    // Nobody answered the upgrade: the peer went away, or the server dropped it (abort()).
    if (refusing_ == handshake_failure_source::shutdown) {
      report_failure(refusing_, 0, "the server dropped the connection while stopping", errc::closed,
                     now);
    } else {
      report_failure(handshake_failure_source::peer, 0, reason, ec, now);
    }
  }
  if (!exposed_) return;  // a server connection that never became a session
  const bool was_open = was == phase::open;
  if (was_open) {
    if (ctx_->table) ctx_->table->erase(*handle_);
    if (ctx_->counters) ctx_->counters->count_close(code, ec);
  }
  if (ctx_->handlers.on_close) ctx_->handlers.on_close(handle_, code, reason, ec);
  if (was_open && ctx_->observer.on_session_end) {
    ctx_->observer.on_session_end(session_end{handle_, code, reason, ec, now - started_at_});
  }
}

void pump::report_failure(handshake_failure_source source, int status, std::string_view reason,
                          std::error_code ec, time_point now) {
  if (!ctx_->observer.on_handshake_failure) return;
  ctx_->observer.on_handshake_failure(
      handshake_failure{source, status, reason, ec, own_handle().remote_, now - started_at_});
}

// ---- the transport's failures, shutdown ------------------------------------------------------

void pump::on_connect_failed(std::error_code ec, std::string reason, time_point now) {
  if (finished()) return;
  if (!finalized()) {
    if (ctx_->side == role::server) {
      phase_ = phase::refused;
      report_failure(handshake_failure_source::transport, 0, reason, ec, now);
    } else if (ctx_->handlers.on_connect_error && handle_) {
      const rejected r{ec, 0, reason, {}, {}};
      ctx_->handlers.on_connect_error(handle_, r);
    }
    finalize(close_code::abnormal, reason, ec, now);
  }
  phase_ = phase::transport_closing;
  io_.close_now();
}

void pump::shutdown(time_point now) {
  if (finished()) return;
  switch (conn_.state()) {
    case connection_state::open:
      conn_.close(close_code::going_away, "server shutting down", now);
      break;
    case connection_state::connecting:
      if (phase_ != phase::upgrade_pending) {
        abort(now);
        return;
      }
      {
        refusing_ = handshake_failure_source::shutdown;
        upgrade_decision d = upgrade_decision::reject(503, "server shutting down");
        apply_decision(d, now);
      }
      break;
    case connection_state::closing:
    case connection_state::closed:
      break;
  }
  settle(now);
}

}  // namespace wsx
