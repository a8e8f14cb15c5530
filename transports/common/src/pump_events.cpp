// The pump's events: every event the core hands out goes to dispatch(), which counts it, runs
// the application's handler for it, and answers what needs an answer — the upgrade request (the
// hook's decision, applied now or later from any thread through pending_upgrade) and a plain
// HTTP request (the application's response, or 404). Runs inside settle() (see pump.cpp), which
// writes and re-arms once the events are drained.
#include <utility>

#include "pump.hpp"

namespace wsx {

// ---- events -------------------------------------------------------------------------------------

void pump::dispatch(event& ev, time_point now) {
  const session_handlers& h = ctx_->handlers;
  stats* const counters = ctx_->counters.get();
  if (auto* req = std::get_if<upgrade_request>(&ev)) {
    on_upgrade_request(*req, now);
  } else if (const auto* plain = std::get_if<http_request>(&ev)) {
    on_http_request(*plain, now);
  } else if (const auto* op = std::get_if<opened>(&ev)) {
    on_opened(*op);
  } else if (const auto* rej = std::get_if<rejected>(&ev)) {
    if (ctx_->side == role::server && counters != nullptr) {
      if (rej->ec == errc::upgrade_rejected) {
        counters->count_app_rejected(rej->status);
      } else if (rej->ec.category() == error_category()) {
        counters->count_handshake_rejected(static_cast<errc>(rej->ec.value()));
      }
    }
    if (ctx_->side == role::client && h.on_connect_error && handle_)
      h.on_connect_error(handle_, *rej);
  } else if (const auto* m = std::get_if<message>(&ev)) {
    if (counters != nullptr) ++unpublished_in_;  // dispatch() runs inside a settle
    if (h.on_message && !finalized()) h.on_message(handle_, m->kind, m->payload);
  } else if (const auto* c = std::get_if<message_chunk>(&ev)) {
    if (counters != nullptr && c->last) ++unpublished_in_;
    if (h.on_chunk && !finalized()) h.on_chunk(handle_, *c);
  } else if (const auto* ping = std::get_if<ping_received>(&ev)) {
    if (h.on_ping && !finalized()) h.on_ping(handle_, ping->payload);
  } else if (const auto* pong = std::get_if<pong_received>(&ev)) {
    if (h.on_pong && !finalized()) h.on_pong(handle_, pong->payload);
  } else if (const auto* end = std::get_if<closed>(&ev)) {
    on_closed(*end);
  }
  // close_received needs nothing: the core has queued the echo, and `closed` follows.
}

void pump::on_upgrade_request(upgrade_request& req, time_point now) {
  phase_ = phase::upgrade_pending;
  upgrade_decision d = upgrade_decision::accept();
  if (ctx_->on_upgrade) {
    const pump_session& h = own_handle();
    d = ctx_->on_upgrade(upgrade_context(req, h.remote_, h.pump_));
  }
  if (d.what != upgrade_decision::verdict::defer) apply_decision(d, now);
}

void pump::apply_decision(upgrade_decision& d, time_point now) {
  // Answered already (a copy of the pending handle won), or the handshake ended meanwhile.
  if (phase_ != phase::upgrade_pending || conn_.state() != connection_state::connecting) return;
  phase_ = phase::handshaking;
  if (d.what == upgrade_decision::verdict::accept) {
    // The handle exists before `opened` is dispatched, so on_open can hand it out.
    own_handle().set_user_id(std::move(d.user_id));
    exposed_ = true;
    const std::error_code ec = conn_.accept({std::move(d.subprotocol), std::move(d.headers)}, now);
    if (!ec) {
      if (ctx_->counters) ctx_->counters->count_handshake_accepted();
      return;
    }
    exposed_ = false;
    conn_.reject(500, "the server's upgrade hook answered with " + ec.message(), now);
    return;
  }
  if (conn_.reject(d.status, d.reason, now, d.headers)) {
    conn_.reject(500, "the server's upgrade hook gave an invalid rejection", now);
  }
}

void pump::on_http_request(const http_request& req, time_point now) {
  http_response r;
  if (ctx_->on_http) {
    r = ctx_->on_http(req, own_handle().remote_);
  } else {
    r.headers = {{"Content-Type", "text/plain; charset=utf-8"}};
    r.body = "not found\n";
  }
  if (conn_.respond(r.status, r.headers, r.body, now)) {
    const header_field type{"Content-Type", "text/plain; charset=utf-8"};
    conn_.respond(500, {&type, 1}, "the server's HTTP handler gave an invalid response\n", now);
  }
}

void pump::on_opened(const opened& ev) {
  phase_ = phase::open;
  sendable_.store(true, std::memory_order_release);  // before on_open hands the session out
  if (ctx_->counters) ctx_->counters->count_open();
  // In the table before on_open runs: the handler may already address its own user.
  if (ctx_->table) ctx_->table->insert(handle_);
  if (ctx_->handlers.on_open) ctx_->handlers.on_open(handle_, ev);
}

void pump::on_closed(const closed& ev) { finalize(ev.code, ev.reason, ev.ec); }

}  // namespace wsx
