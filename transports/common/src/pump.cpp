// The pump: everything a transport does with a wsx::connection except moving bytes and time.
//
// Every entry point ends in settle(): drain next_event() into dispatch(), write what the core
// has queued through transport_io::write() (one operation in flight at most), publish the
// buffered amount for other threads, fire the drain handler, and either close the transport
// (once the core says so and nothing is left to write) or re-arm the timer from
// next_deadline() — telling the transport only when the time changed. settle() is not
// re-entered: a handler that sends from inside dispatch() only queues into the core, and the
// loop in settle() picks the result up.
//
// The commands (send, ping, close… from the loop or any thread) are in pump_commands.cpp, the
// session handle that forwards to them in pump_session.cpp. Cross-thread commands go through the
// mailbox (a vector under a mutex) and one wake-up; on the loop a command is applied directly,
// after any mail that came first, so each thread's calls keep their order. buffered_amount() for
// other threads is the core's amount as of the last settle plus the bytes still in the mailbox,
// which is also what bounds queued memory against config::max_buffered_output before a payload
// is even copied.
#include "pump.hpp"

#include <algorithm>
#include <utility>

namespace wsx {

// Marks a settle (or abort's event drain) for its scope, also when a handler throws; the
// outermost one publishes the messages counted meanwhile on the way out.
class pump::settle_scope {
 public:
  explicit settle_scope(pump& p) noexcept
      : p_(p), outer_(!std::exchange(p.settling_, true)), enclosing_(settling_here_) {
    settling_here_ = &p;
  }
  ~settle_scope() {
    settling_here_ = enclosing_;
    if (!outer_) return;
    p_.publish_counts();
    p_.settling_ = false;
  }
  settle_scope(const settle_scope&) = delete;
  settle_scope& operator=(const settle_scope&) = delete;

 private:
  pump& p_;
  bool outer_;
  pump* enclosing_;  // the settle this one runs inside, of this pump or another one
};

thread_local pump* pump::settling_here_ = nullptr;

void pump::publish_counts() noexcept {
  stats* const counters = ctx_->counters.get();
  if (counters == nullptr) return;
  if (unpublished_in_ != 0) counters->count_messages_in(std::exchange(unpublished_in_, 0));
  if (unpublished_out_ != 0) counters->count_messages_out(std::exchange(unpublished_out_, 0));
}

void pump::count_message_out() noexcept {
  if (!ctx_->counters) return;
  if (settling_) {
    ++unpublished_out_;  // published when the settle ends
  } else {
    ctx_->counters->count_messages_out();
  }
}

// ---- construction and the end ---------------------------------------------------------------

pump::pump(std::shared_ptr<pump_context> ctx, transport_io& io, std::string remote_endpoint,
           time_point now)
    : ctx_(std::move(ctx)),
      io_(io),
      // Every connection of a server shares the context's config instead of copying it.
      conn_(connection::with_shared_config(ctx_->side,
                                           std::shared_ptr<const config>(ctx_, &ctx_->cfg), now)),
      handle_(
          std::make_shared<pump_session>("", std::move(remote_endpoint), std::weak_ptr<pump>())),
      connected_(ctx_->side == role::server) {}

const std::shared_ptr<session>& pump::handle() const noexcept {
  static const std::shared_ptr<session> none;
  return exposed_ ? handle_ : none;
}

pump_session& pump::own_handle() const noexcept { return static_cast<pump_session&>(*handle_); }

std::size_t pump::read_pause_bytes() const noexcept {
  return std::max<std::size_t>(ctx_->cfg.max_buffered_output / 4, 1);
}

pump::~pump() {
  const std::unique_ptr<mailbox> box(mailbox_.load(std::memory_order_acquire));
  // The loop was torn down under a live session: keep the table and the stats right. The close
  // handler is not called from here — the application's state may already be gone.
  if (!finalized_) {
    finalized_ = true;
    ended_.store(true, std::memory_order_release);
    own_handle().end();
    if (opened_) {
      if (ctx_->table) ctx_->table->erase(*handle_);
      if (ctx_->counters) ctx_->counters->count_close(close_code::abnormal, errc::closed);
    }
  }
}

void pump::start(const std::shared_ptr<pump>& self) {
  own_handle().pump_ = self;
  exposed_ = ctx_->side == role::client;
  update_timer();
}

void pump::finalize(close_code code, std::string_view reason, std::error_code ec) {
  if (finalized_) return;
  finalized_ = true;
  end_ec_ = ec;
  ended_.store(true, std::memory_order_release);
  sendable_.store(false, std::memory_order_release);
  own_handle().end();
  if (!exposed_) return;  // a server connection that never became a session
  if (opened_) {
    if (ctx_->table) ctx_->table->erase(*handle_);
    if (ctx_->counters) ctx_->counters->count_close(code, ec);
  }
  if (ctx_->handlers.on_close) ctx_->handlers.on_close(handle_, code, reason, ec);
}

// ---- transport → pump ---------------------------------------------------------------------------

void pump::on_connected(const client_options& opts, time_point now) {
  if (transport_closing_ || finalized_) return;
  connected_ = true;
  if (const std::error_code ec = conn_.connect(opts, now)) {
    on_connect_failed(ec, "cannot build the upgrade request: " + ec.message(), now);
    return;
  }
  settle(now);
}

void pump::on_connect_failed(std::error_code ec, std::string reason, time_point now) {
  (void)now;
  if (transport_closing_) return;
  if (!finalized_) {
    const rejected r{ec, 0, reason, {}, {}};
    if (ctx_->handlers.on_connect_error && handle_) ctx_->handlers.on_connect_error(handle_, r);
    finalize(close_code::abnormal, reason, ec);
  }
  transport_closing_ = true;
  io_.close_now();
}

void pump::on_input(std::span<std::byte> in, time_point now) {
  if (transport_closing_) return;
  last_activity_ = now;
  shrunk_ = false;
  if (ctx_->counters) ctx_->counters->count_bytes_in(in.size());
  conn_.receive_in_place(in, now);
  settle(now);
  conn_.release_input();  // the transport reuses `in` next
}

void pump::on_eof(time_point now) {
  if (transport_closing_) return;
  conn_.receive_eof(now);
  settle(now);
}

void pump::on_timer(time_point now) {
  if (transport_closing_) return;
  armed_.reset();  // the transport's timer is spent; update_timer() arms it again if needed
  if (shrink_at_ && *shrink_at_ <= now) shrink_if_quiet(now);
  conn_.on_timer(now);
  settle(now);
}

void pump::on_write_complete(std::size_t n, std::error_code ec, time_point now) {
  write_in_flight_ = false;
  if (transport_closing_) return;
  if (n != 0) consumed(n, now);
  if (ec) {
    write_failed_ = true;
    conn_.receive_eof(now);  // the socket is gone: the core ends the session (1006)
  }
  settle(now);
}

void pump::on_wake(time_point now) {
  if (transport_closing_) return;
  apply_mail(now);
  settle(now);
}

void pump::shutdown(time_point now) {
  if (transport_closing_) return;
  switch (conn_.state()) {
    case connection_state::open:
      conn_.close(close_code::going_away, "server shutting down", now);
      break;
    case connection_state::connecting:
      if (!upgrade_pending_) {
        abort(now);
        return;
      }
      {
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

void pump::abort(time_point now) {
  if (transport_closing_) return;
  conn_.receive_eof(now);
  {
    // Handlers may call back in: they only queue, nothing is written or closed from there.
    const settle_scope in_settle(*this);
    while (auto ev = conn_.next_event()) dispatch(*ev, now);
  }
  if (!finalized_) finalize(close_code::abnormal, "connection dropped", errc::eof_without_close);
  transport_closing_ = true;
  io_.close_now();
}

bool pump::should_read() {
  if (transport_closing_ || !connected_ || !conn_.wants_read()) return false;
  if (conn_.buffered_amount() >= read_pause_bytes()) {
    // Backpressure: the peer is not taking our output, so stop taking its input.
    read_paused_ = true;
    return false;
  }
  return true;
}

void pump::on_read_idle(time_point now) {
  if (transport_closing_ || shrunk_) return;
  // The first pause after the upgrade: the handshake's buffers (request, response, events) are
  // spent. Free them now, before the next connection allocates its own: a burst of connections
  // that then stay idle would otherwise leave a hole per connection in the heap.
  if (!paused_since_open_ && conn_.state() == connection_state::open) {
    paused_since_open_ = true;
    if (shrink_now()) return;
  }
  // Freeing at every pause would make a busy connection allocate its buffers again for each
  // message; wait until it has been quiet for a while (the connection's one timer says when).
  if (shrink_at_) return;
  shrink_at_ = now + quiet_before_shrink;
  update_timer();
}

void pump::shrink_if_quiet(time_point now) {
  shrink_at_.reset();
  if (now - last_activity_ < quiet_before_shrink) {
    shrink_at_ = last_activity_ + quiet_before_shrink;  // busy meanwhile: look again later
    return;
  }
  shrink_now();  // when output is still going out, the next read pause tries again
}

bool pump::shrink_now() {
  if (write_in_flight_ || conn_.wants_write()) return false;
  conn_.shrink_to_fit();
  io_.release_idle_buffers();
  shrunk_ = true;
  if (mailbox* const box = mailbox_.load(std::memory_order_acquire)) {
    std::lock_guard lock(box->mutex);
    if (box->mail.empty()) std::vector<command>().swap(box->mail);
  }
  return true;
}

// ---- the settle loop
// ------------------------------------------------------------------------------

void pump::settle(time_point now) {
  if (settling_ || transport_closing_) return;
  const settle_scope in_settle(*this);
  settle_now_ = now;
  for (;;) {
    while (auto ev = conn_.next_event()) {
      dispatch(*ev, now);
      if (transport_closing_) break;
    }
    if (transport_closing_) break;
    if (flush(now)) continue;  // the socket failed: dispatch the core's `closed` first
    if (write_failed_) {
      // Nothing more can reach the peer. The core has ended the session by now; if it has not
      // (input it was still holding), end it here all the same.
      if (!finalized_) finalize(close_code::abnormal, "connection lost", errc::eof_without_close);
      begin_close();
      break;
    }
    note_buffered();
    if (congested_ && conn_.buffered_amount() <= ctx_->backpressure.low_water_mark) {
      congested_ = false;
      if (opened_ && !finalized_ && ctx_->handlers.on_drain) {
        ctx_->handlers.on_drain(handle_);
        continue;  // the handler may have sent or closed
      }
    }
    if (conn_.should_close_transport() && !conn_.wants_write()) {
      begin_close();
      break;
    }
    break;
  }
  if (!transport_closing_) {
    update_timer();
    if (read_paused_ && conn_.buffered_amount() < read_pause_bytes()) {
      read_paused_ = false;
      io_.resume_reading();
    }
  }
}

bool pump::flush(time_point now) {
  while (connected_ && !write_in_flight_ && !write_failed_ && conn_.wants_write()) {
    const write_result r = io_.write(conn_.pending_output());
    if (r.written != 0) consumed(r.written, now);
    if (r.error) {
      write_failed_ = true;
      conn_.receive_eof(now);
      return true;
    }
    if (r.in_flight) {
      write_in_flight_ = true;
      return false;
    }
    if (r.written == 0) return false;  // took nothing and waits for nothing: next settle retries
  }
  return false;
}

void pump::consumed(std::size_t n, time_point now) {
  last_activity_ = now;
  conn_.consume_output(n, now);
  if (ctx_->counters) ctx_->counters->count_bytes_out(n);
}

void pump::note_buffered(std::size_t left_mailbox) noexcept {
  const std::size_t b = conn_.buffered_amount();
  // One atomic step (modulo 2^64): the core's change, minus the bytes that just left the mailbox
  // for the core, so that other threads never see them counted twice or not at all.
  queued_.fetch_add(b - core_published_ - left_mailbox, std::memory_order_acq_rel);
  core_published_ = b;
  sendable_.store(conn_.state() == connection_state::open, std::memory_order_release);
  if (b > ctx_->backpressure.low_water_mark) congested_ = true;
}

void pump::update_timer() {
  std::optional<time_point> due = conn_.next_deadline();
  if (shrink_at_ && (!due || *shrink_at_ < *due)) due = *shrink_at_;
  if (maybe_time(due) == armed_) return;
  armed_ = due;
  io_.set_timer(due);
}

void pump::begin_close() {
  transport_closing_ = true;
  armed_.reset();
  // A client that never got connected, output that can no longer be written (the write
  // deadline dropped it, the socket failed), or a peer that stopped answering: no polite close,
  // nobody is listening.
  const bool unresponsive = end_ec_ == errc::heartbeat_timeout || end_ec_ == errc::write_timeout ||
                            end_ec_ == errc::close_timeout;
  if (!connected_ || unresponsive || write_in_flight_ || write_failed_ || conn_.wants_write()) {
    io_.close_now();
  } else {
    io_.close_gracefully();
  }
}

void pump::after_command(time_point now) {
  if (!settling_) settle(now);
}

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
    if (h.on_message && !finalized_) h.on_message(handle_, m->kind, m->payload);
  } else if (const auto* c = std::get_if<message_chunk>(&ev)) {
    if (counters != nullptr && c->last) ++unpublished_in_;
    if (h.on_chunk && !finalized_) h.on_chunk(handle_, *c);
  } else if (const auto* ping = std::get_if<ping_received>(&ev)) {
    if (h.on_ping && !finalized_) h.on_ping(handle_, ping->payload);
  } else if (const auto* pong = std::get_if<pong_received>(&ev)) {
    if (h.on_pong && !finalized_) h.on_pong(handle_, pong->payload);
  } else if (const auto* end = std::get_if<closed>(&ev)) {
    on_closed(*end);
  }
  // close_received needs nothing: the core has queued the echo, and `closed` follows.
}

void pump::on_upgrade_request(upgrade_request& req, time_point now) {
  upgrade_pending_ = true;
  upgrade_decision d = upgrade_decision::accept();
  if (ctx_->on_upgrade) {
    const pump_session& h = own_handle();
    d = ctx_->on_upgrade(upgrade_context(req, h.remote_, h.pump_));
  }
  if (d.what != upgrade_decision::verdict::defer) apply_decision(d, now);
}

void pump::apply_decision(upgrade_decision& d, time_point now) {
  // Answered already (a copy of the pending handle won), or the handshake ended meanwhile.
  if (!upgrade_pending_ || conn_.state() != connection_state::connecting) return;
  upgrade_pending_ = false;
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
  opened_ = true;
  sendable_.store(true, std::memory_order_release);  // before on_open hands the session out
  if (ctx_->counters) ctx_->counters->count_open();
  // In the table before on_open runs: the handler may already address its own user.
  if (ctx_->table) ctx_->table->insert(handle_);
  if (ctx_->handlers.on_open) ctx_->handlers.on_open(handle_, ev);
}

void pump::on_closed(const closed& ev) { finalize(ev.code, ev.reason, ev.ec); }

}  // namespace wsx
