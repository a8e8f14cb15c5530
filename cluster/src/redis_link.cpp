// redis_link: one Redis connection as a state machine fed with bytes and time.
//
// Liveness without counting on TCP: any byte from Redis counts as life. After half a probe
// interval of silence the link sends PING; if nothing at all arrives during the next half, the
// connection is declared dead (errc::probe_timeout), so a black-holed connection is found within
// one probe interval of its last byte. The PING's answer is swallowed: "+PONG" on a command
// link (its place in the reply order is known), ["pong", ""] on a subscriber link.
// Failures go to `backoff`: the wait doubles from backoff_initial to backoff_max with full
// jitter in its upper half ([d/2, d]); a reply received resets it. Nothing is queued while the
// link is not open: send() fails at once, so a Redis outage costs no memory.
#include "redis_link.hpp"

#include <algorithm>
#include <array>

#include "wsx/cluster/errors.hpp"

namespace wsx::cluster::detail {

redis_link::redis_link(link_config cfg, std::uint64_t seed)
    : cfg_(cfg), rng_(static_cast<std::uint_fast32_t>(seed ^ (seed >> 32)) | 1u) {}

void redis_link::start(time_point now) {
  if (state_ != link_state::idle) return;
  state_ = link_state::connecting;
  state_since_ = now;
  ++attempt_;
}

void redis_link::stop() {
  state_ = link_state::stopped;
  out_.clear();
  out_pos_ = 0;
  expected_.clear();
  reader_.reset();
  ping_outstanding_ = false;
}

void redis_link::on_connected(time_point now) {
  if (state_ != link_state::connecting) return;
  state_ = link_state::open;
  state_since_ = now;
  last_rx_ = now;
  ping_outstanding_ = false;
  reader_ = std::make_unique<resp_reader>(cfg_.max_reply_bytes);
  reply_error_.clear();
  events_.push_back({link_event::kind::connected, {}, 0, {}});
}

void redis_link::on_connect_failed(time_point now) {
  if (state_ != link_state::connecting) return;
  fail(errc::connection_failed, now);
}

void redis_link::on_eof(time_point now) {
  if (state_ != link_state::open && state_ != link_state::connecting) return;
  fail(state_ == link_state::open ? errc::connection_lost : errc::connection_failed, now);
}

void redis_link::fail(std::error_code ec, time_point now) {
  const bool was_open = state_ == link_state::open;
  state_ = link_state::backoff;
  state_since_ = now;
  out_.clear();
  out_pos_ = 0;
  expected_.clear();
  reader_.reset();
  ping_outstanding_ = false;
  ++disconnects_;
  if (ec == errc::probe_timeout) ++probe_timeouts_;
  if (ec == errc::reply_too_large) ++too_large_;
  const auto initial = std::max<std::int64_t>(cfg_.backoff_initial.count(), 1);
  const auto cap = std::max<std::int64_t>(cfg_.backoff_max.count(), initial);
  std::int64_t d = initial << std::min(failures_, 20u);
  d = std::min(d, cap);
  const std::int64_t jitter = static_cast<std::int64_t>(rng_() % static_cast<unsigned>(d / 2 + 1));
  retry_at_ = now + milliseconds(d - d / 2 + jitter);
  ++failures_;
  if (was_open) events_.push_back({link_event::kind::disconnected, ec, 0, {}});
}

std::error_code redis_link::receive(std::span<const char> in, time_point now) {
  if (state_ != link_state::open || !reader_) return {};
  if (!in.empty()) {
    last_rx_ = now;
    if (ping_outstanding_) ping_sent_ = now;  // life: the probe's clock starts again
  }
  std::error_code ec = reader_->receive(in, [this](reply& r) { on_reply(r); });
  if (!ec) ec = reply_error_;
  if (ec) fail(ec, now);
  return ec;
}

void redis_link::on_reply(reply& r) {
  if (reply_error_) return;
  failures_ = 0;
  if (cfg_.subscriber) {
    const bool pong =
        (r.is_array() && r.text(0) == "pong") || (r.type == reply::kind::status && r.str == "PONG");
    if (pong) {
      ping_outstanding_ = false;
      return;
    }
    events_.push_back({link_event::kind::reply, {}, 0, std::move(r)});
    return;
  }
  if (expected_.empty()) {
    reply_error_ = errc::protocol_error;  // a reply to nothing we asked
    return;
  }
  expected& e = expected_.front();
  const std::uint64_t tag = e.tag;
  if (--e.replies == 0) expected_.pop_front();
  if (tag == ping_tag) {
    ping_outstanding_ = false;
    return;
  }
  events_.push_back({link_event::kind::reply, {}, tag, std::move(r)});
}

std::string_view redis_link::pending_output() const noexcept {
  return std::string_view(out_).substr(out_pos_);
}

void redis_link::consume_output(std::size_t n) noexcept {
  out_pos_ = std::min(out_.size(), out_pos_ + n);
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > 64 * 1024 && out_pos_ > out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
}

std::error_code redis_link::send(std::string_view bytes, std::uint64_t tag, unsigned replies) {
  if (state_ != link_state::open) return errc::redis_unavailable;
  if (out_.size() - out_pos_ + bytes.size() > cfg_.max_backlog_bytes) return errc::backlog_full;
  out_.append(bytes);
  if (replies > 0 && !cfg_.subscriber) expected_.push_back({tag, replies});
  return {};
}

void redis_link::send_ping(time_point now) {
  static constexpr std::array<std::string_view, 1> ping = {"PING"};
  std::string cmd;
  format_command(cmd, ping);
  // Past the backlog limit the probe is not needed: the writes themselves are waiting.
  if (send(cmd, ping_tag, 1)) return;
  ping_outstanding_ = true;
  ping_sent_ = now;
}

std::optional<time_point> redis_link::next_deadline() const noexcept {
  switch (state_) {
    case link_state::connecting:
      return state_since_ + cfg_.connect_timeout;
    case link_state::open:
      return ping_outstanding_ ? ping_sent_ + half_probe() : last_rx_ + half_probe();
    case link_state::backoff:
      return retry_at_;
    case link_state::idle:
    case link_state::stopped:
      break;
  }
  return std::nullopt;
}

void redis_link::on_timer(time_point now) {
  switch (state_) {
    case link_state::connecting:
      if (now >= state_since_ + cfg_.connect_timeout) fail(errc::connection_failed, now);
      break;
    case link_state::open:
      if (ping_outstanding_) {
        if (now >= ping_sent_ + half_probe()) fail(errc::probe_timeout, now);
      } else if (now >= last_rx_ + half_probe()) {
        send_ping(now);
        if (!ping_outstanding_) last_rx_ = now;  // backlog full: look again later
      }
      break;
    case link_state::backoff:
      if (now >= retry_at_) {
        state_ = link_state::connecting;
        state_since_ = now;
        ++attempt_;
      }
      break;
    case link_state::idle:
    case link_state::stopped:
      break;
  }
}

std::optional<link_event> redis_link::next_event() {
  if (events_.empty()) return std::nullopt;
  link_event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace wsx::cluster::detail
