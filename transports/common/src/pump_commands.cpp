// The pump's commands: send, send_shared, ping, close and the upgrade answer, from the loop
// (applied at once, after any mail of the same thread) or from any other thread (checked
// against the output allowance, copied into the mailbox, applied on the loop after one
// wake-up). The session handle that forwards to them is in pump_session.cpp; the loop side is
// in pump.cpp.
#include "pump_mailbox.hpp"

#include <algorithm>
#include <utility>

namespace wsx {
namespace {

constexpr opcode opcode_of(message_kind kind) noexcept {
  return kind == message_kind::text ? opcode::text : opcode::binary;
}

// RFC 6455 §7.4: codes an endpoint may send (the core checks again, with the reason's UTF-8).
constexpr bool sendable_close_code(close_code code) noexcept {
  const auto c = static_cast<unsigned>(code);
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

constexpr std::size_t max_close_reason = 123;  // RFC 6455 §5.5: 125 bytes minus the code
constexpr std::size_t max_control_payload = 125;

const char* const slow_consumer_reason = "slow consumer: output limit exceeded";

}  // namespace

// ---- commands -----------------------------------------------------------------------------------

std::error_code pump::send_now(message_kind kind, bytes_view payload, time_point now) {
  if (finalized()) return errc::closed;
  const std::error_code ec = conn_.send(opcode_of(kind), payload, true, now);
  if (ec) return refused(ec, now);
  count_message_out();
  return {};
}

std::error_code pump::send_shared_now(const shared_message& msg, time_point now) {
  if (finalized()) return errc::closed;
  if (ctx_->side == role::client) {
    // Client frames are masked one by one: send the payload (the frame's tail) normally.
    const bytes_view wire = msg.wire();
    return send_now(msg.kind(), wire.subspan(wire.size() - msg.payload_size()), now);
  }
  const std::error_code ec = conn_.send_shared(msg, now);
  if (ec) return refused(ec, now);
  count_message_out();
  return {};
}

void pump::count_dropped() noexcept {
  ctx_->messages_dropped.fetch_add(1, std::memory_order_relaxed);
  if (ctx_->counters) ctx_->counters->count_message_dropped();
}

std::error_code pump::refused(std::error_code ec, time_point now) {
  if (ec != errc::output_limit) return ec;
  count_dropped();
  congested_ = true;
  if (ctx_->backpressure.action == backpressure::close_slow_consumer) {
    conn_.close(close_code::policy_violation, slow_consumer_reason, now);
  }
  return ec;
}

std::error_code pump::send(message_kind kind, bytes_view payload) {
  if (ended_.load(std::memory_order_acquire)) return errc::closed;
  if (on_loop()) {
    const time_point now = loop_now();
    apply_mail(now);  // earlier cross-thread calls of this thread go first
    const std::error_code ec = send_now(kind, payload, now);
    after_command(now);
    return ec;
  }
  if (!sendable_.load(std::memory_order_acquire)) return errc::invalid_state;
  const std::size_t bytes = queued_size(payload.size());
  if (const std::error_code ec = admit(bytes)) return ec;
  return post(
      command{command::send{kind, std::vector<std::byte>(payload.begin(), payload.end()), bytes}},
      bytes);
}

std::error_code pump::send_shared(const shared_message& msg) {
  if (ended_.load(std::memory_order_acquire)) return errc::closed;
  if (msg.empty()) return errc::invalid_argument;
  if (on_loop()) {
    const time_point now = loop_now();
    apply_mail(now);
    const std::error_code ec = send_shared_now(msg, now);
    after_command(now);
    return ec;
  }
  if (!sendable_.load(std::memory_order_acquire)) return errc::invalid_state;
  const std::size_t bytes = msg.wire().size();
  if (const std::error_code ec = admit(bytes)) return ec;
  return post(command{command::send_shared{msg}}, bytes);
}

std::error_code pump::ping(bytes_view payload) {
  if (ended_.load(std::memory_order_acquire)) return errc::closed;
  if (payload.size() > max_control_payload) return errc::invalid_argument;
  if (on_loop()) {
    const time_point now = loop_now();
    apply_mail(now);
    std::error_code ec = finalized() ? make_error_code(errc::closed) : conn_.ping(payload, now);
    if (ec) ec = refused(ec, now);
    after_command(now);
    return ec;
  }
  if (!sendable_.load(std::memory_order_acquire)) return errc::invalid_state;
  const std::size_t bytes = queued_size(payload.size());
  if (const std::error_code ec = admit(bytes)) return ec;
  return post(command{command::ping{std::vector<std::byte>(payload.begin(), payload.end()), bytes}},
              bytes);
}

std::error_code pump::close(close_code code, std::string_view reason) {
  if (ended_.load(std::memory_order_acquire)) return errc::closed;
  if (!sendable_close_code(code) || reason.size() > max_close_reason) {
    return errc::invalid_argument;
  }
  if (!on_loop()) return post(command{command::close{code, std::string(reason)}}, 0);
  const time_point now = loop_now();
  apply_mail(now);
  std::error_code ec;
  if (finalized()) {
    ec = errc::closed;
  } else if (ctx_->side == role::client && conn_.state() == connection_state::connecting) {
    // Closing a client before its upgrade finished cancels the attempt.
    on_connect_failed(std::make_error_code(std::errc::operation_canceled),
                      "closed by the application before the upgrade finished", now);
    return {};
  } else {
    ec = conn_.close(code, reason, now);
  }
  after_command(now);
  return ec;
}

std::error_code pump::complete_upgrade(upgrade_decision d) {
  if (ended_.load(std::memory_order_acquire)) return errc::closed;
  return post(command{command::upgrade{std::move(d)}}, 0);
}

std::size_t pump::buffered_amount() const noexcept {
  return queued_.load(std::memory_order_acquire);
}

// What a message of `payload` bytes adds to the output queue: the payload and its frame headers
// (RFC 6455 §5.2: 2 bytes, +2 or +8 for the length, +4 for a client's mask), per frame when
// config::auto_fragment_size splits it.
std::size_t pump::queued_size(std::size_t payload) const noexcept {
  const std::size_t piece =
      ctx_->cfg.auto_fragment_size != 0 ? std::min(ctx_->cfg.auto_fragment_size, payload) : payload;
  const std::size_t frames = piece == 0 ? 1 : (payload + piece - 1) / piece;
  const std::size_t length_bytes = piece <= 125 ? 0 : piece <= 0xFFFF ? 2 : 8;
  const std::size_t mask_bytes = ctx_->side == role::client ? 4 : 0;
  return payload + frames * (2 + length_bytes + mask_bytes);
}

// Off the loop: reserve room for `bytes` in the session's output allowance (what the core holds
// plus what waits in the mailbox), or refuse the payload before it is even copied.
std::error_code pump::admit(std::size_t bytes) {
  std::size_t queued = queued_.load(std::memory_order_acquire);
  while (queued + bytes <= ctx_->cfg.max_buffered_output) {
    if (queued_.compare_exchange_weak(queued, queued + bytes, std::memory_order_acq_rel)) {
      return {};
    }
  }
  count_dropped();
  if (ctx_->backpressure.action == backpressure::close_slow_consumer) {
    post(command{command::close{close_code::policy_violation, slow_consumer_reason}}, 0);
  }
  return errc::output_limit;
}

void pump::shrink_mailbox() noexcept {
  if (mailbox* const box = mailbox_.load(std::memory_order_acquire)) {
    std::lock_guard lock(box->mutex);
    if (box->mail.empty()) std::vector<command>().swap(box->mail);
  }
}

pump::mailbox& pump::mail_box() {
  mailbox* box = mailbox_.load(std::memory_order_acquire);
  if (box != nullptr) return *box;
  auto fresh = std::make_unique<mailbox>();
  if (mailbox_.compare_exchange_strong(box, fresh.get(), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
    return *fresh.release();
  }
  return *box;  // another thread made it first
}

// `bytes` were reserved by admit(); they are released when the command is applied.
std::error_code pump::post(command cmd, std::size_t bytes) {
  mailbox& box = mail_box();
  bool wake = false;
  {
    std::lock_guard lock(box.mutex);
    if (ended_.load(std::memory_order_acquire)) {
      queued_.fetch_sub(bytes, std::memory_order_acq_rel);
      return errc::closed;
    }
    box.mail.push_back(std::move(cmd));
    has_mail_.store(true, std::memory_order_release);
    wake = !box.wake_pending;
    box.wake_pending = true;
  }
  if (wake) io_.wake();
  return {};
}

void pump::apply_mail(time_point now) {
  if (!has_mail_.load(std::memory_order_acquire)) return;
  mailbox& box = *mailbox_.load(std::memory_order_acquire);  // made before has_mail_ was set
  std::vector<command> batch;
  {
    std::lock_guard lock(box.mutex);
    batch.swap(box.mail);
    has_mail_.store(false, std::memory_order_release);
    box.wake_pending = false;
  }
  for (command& cmd : batch) apply(cmd, now);
  batch.clear();
  std::lock_guard lock(box.mutex);
  if (box.mail.empty()) box.mail.swap(batch);  // keep the storage for the next batch
}

void pump::apply(command& cmd, time_point now) {
  // A payload's reservation moves from the mailbox to the core in the same step.
  if (auto* s = std::get_if<command::send>(&cmd.what)) {
    send_now(s->kind, s->payload, now);
    note_buffered(s->reserved);
  } else if (auto* sh = std::get_if<command::send_shared>(&cmd.what)) {
    send_shared_now(sh->msg, now);
    note_buffered(sh->msg.wire().size());
  } else if (auto* p = std::get_if<command::ping>(&cmd.what)) {
    if (!finalized() && conn_.ping(p->payload, now) == errc::output_limit) {
      refused(errc::output_limit, now);
    }
    note_buffered(p->reserved);
  } else if (auto* c = std::get_if<command::close>(&cmd.what)) {
    if (finalized()) return;
    if (ctx_->side == role::client && conn_.state() == connection_state::connecting) {
      on_connect_failed(std::make_error_code(std::errc::operation_canceled),
                        "closed by the application before the upgrade finished", now);
    } else {
      conn_.close(c->code, c->reason, now);
    }
  } else if (auto* u = std::get_if<command::upgrade>(&cmd.what)) {
    apply_decision(u->decision, now);
  }
}

}  // namespace wsx
