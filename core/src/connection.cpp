// The connection: the handshake, frame and close state machines glued to deadlines and output.
//
// Input is copied once into in_buf (the caller keeps its buffer) and decoded lazily: process()
// runs until it has queued at least one event or used up the input, and next_event() resumes it.
// So an event's spans (payloads unmasked in place in in_buf, or an assembled message) stay put
// until the next non-const call, without copying every payload aside. receive_in_place() skips
// that copy: an open connection with nothing left over decodes straight from the caller's bytes
// (`borrowed`), and release_input() copies only what is still needed when the caller wants its
// buffer back. Auto replies (pong, close echo) are queued at the moment their frame is decoded,
// which is before the event is seen.
//
// States: connecting (handshake) → open → closing (a close frame went one way) → closed (the
// `closed` event was queued; terminal). A server is closed right after the closing handshake; a
// client stays closing until the server's FIN or the close deadline. Failures queue a close frame
// when one can still be sent, then go straight to closed.
#include "wsx/connection.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <type_traits>
#include <utility>
#include <variant>

#include "detail/close_rules.hpp"
#include "detail/deadlines.hpp"
#include "detail/frame_decoder.hpp"
#include "detail/frame_encoder.hpp"
#include "detail/handshake.hpp"
#include "detail/output_queue.hpp"
#include "detail/random.hpp"

namespace wsx {

using detail::deadline;

namespace {
enum class hs_step : std::uint8_t {
  reading,         // server: reading the request; client: connect() not called yet
  awaiting_app,    // server: upgrade_request emitted, waiting for accept()/reject()
  awaiting_reply,  // client: request queued, reading the response
  done,
};
}  // namespace

struct connection::impl {
  // What the connection needs only while it has work in hand: input being decoded, events not
  // pulled yet, a message being assembled, output waiting, the peer's close reason. Allocated by
  // the first use; shrink_to_fit() frees it when an open connection has spent all of it between
  // two messages, so an idle connection carries only the members below.
  struct active_state {
    active_state(role r, const config& c)
        : decoder(r, {c.max_frame_payload, c.max_message_size, c.max_fragments_per_message}) {}
    // True when dropping this loses nothing: a fresh one would go on the same.
    bool spent() const noexcept {
      return in_pos == in_buf.size() && borrowed_pos == borrowed.size() && head == events.size() &&
             !assembled && assembly.empty() && decoder.at_boundary() && out.holds_nothing();
    }
    detail::frame_decoder decoder;
    std::vector<std::byte> in_buf;
    std::size_t in_pos = 0;
    // receive_in_place(): the caller's bytes, decoded where they are until release_input().
    // While set, in_buf holds nothing undecoded.
    std::span<std::byte> borrowed;
    std::size_t borrowed_pos = 0;
    std::vector<std::byte> assembly;
    bool assembled = false;
    std::vector<event> events;
    std::size_t head = 0;
    detail::output_queue out;
    std::string close_reason;
  };

  impl(role r, std::shared_ptr<const config> c, time_point now)
      : shared_cfg_(std::move(c)), role_(r) {
    deadlines_.arm_after(deadline::handshake, now, cfg().handshake_timeout);
    if (r == role::server)
      http_ = std::make_unique<detail::http_parser>(detail::http_parser::kind::request,
                                                    cfg().max_header_bytes);
  }

  // ---- events ----
  // Constructs the event in the queue: one move of the alternative, none of the variant.
  template <class E>
  void push(E&& ev) {
    act().events.emplace_back(std::forward<E>(ev));
  }
  bool has_events() const noexcept { return act_ && act_->head < act_->events.size(); }

  // ---- the active part ----
  active_state& act() {
    if (!act_) act_ = std::make_unique<active_state>(role_, cfg());
    return *act_;
  }
  std::size_t out_size() const noexcept { return act_ ? act_->out.size() : 0; }

  // ---- output helpers ----
  void note_output_grew(std::size_t before, time_point now) {
    if (before == 0 && out_size() != 0)
      deadlines_.arm_after(deadline::write, now, cfg().write_timeout);
  }
  void queue_raw(std::string_view s, time_point now) {
    const auto before = out_size();
    act().out.append(as_bytes(s));
    note_output_grew(before, now);
  }
  bool queue_frame(bool fin, opcode op, bytes_view payload, time_point now) {
    const auto before = out_size();
    auto& out = act().out;
    if (role_ == role::client) {
      detail::mask_key key;
      if (!detail::next_mask_key(key)) return false;
      detail::encode_frame(out, fin, op, payload, &key);
    } else {
      detail::encode_frame(out, fin, op, payload, nullptr);
    }
    note_output_grew(before, now);
    return true;
  }
  void queue_close(close_code code, std::string_view reason, time_point now) {
    std::array<std::byte, 125> buf;
    const auto n = detail::write_close_payload(buf.data(), code, reason);
    queue_frame(true, opcode::close, {buf.data(), n}, now);
    close_sent_ = true;
    if (!deadlines_.armed(deadline::close))
      deadlines_.arm_after(deadline::close, now, cfg().close_timeout);
  }
  bool would_exceed(std::size_t add) const noexcept {
    return out_size() + add > cfg().max_buffered_output;
  }
  void drop_output() noexcept {
    // The bytes stay alive until the next consume_output(): a write may hold them.
    if (act_) act_->out.drop_all();
    deadlines_.disarm(deadline::write);
  }

  // ---- endings ----
  // Queues the terminal event; keeps only the write deadline (to bound the final flush).
  void finish(close_code code, std::string reason, bool clean, errc ec) {
    if (state_ == connection_state::closed) return;
    state_ = connection_state::closed;
    const bool keep_write = deadlines_.armed(deadline::write);
    const auto write_at = deadlines_.at(deadline::write);
    deadlines_.disarm_all();
    if (keep_write && write_at) deadlines_.arm(deadline::write, *write_at);
    if (ec != errc{}) sticky_ = ec;
    http_.reset();
    hsd_.reset();
    push(closed{code, std::move(reason), clean, initiated_locally_, as_error_code(ec)});
  }

  // Fails the connection for a peer error or a deadline (RFC 6455 §7.1.7): queue a close frame
  // with the matching code if one may still be sent, then end.
  void fail(errc e, time_point now) {
    if (state_ == connection_state::closed) return;
    const close_code code = to_close_code(e);
    std::string reason = make_error_code(e).message();
    if (reason.size() > detail::max_close_reason) reason.resize(detail::max_close_reason);
    if (!close_sent_) initiated_locally_ = true;
    if (code != close_code::abnormal && !close_sent_ && state_ != connection_state::connecting)
      queue_close(code, reason, now);
    finish(code, std::move(reason), false, e);
  }

  void handshake_failed(errc e, int status, std::string reason, std::vector<header_field> headers,
                        std::string body, time_point now) {
    (void)now;
    initiated_locally_ = role_ == role::server || e != errc::bad_status;
    push(rejected{e, status, reason, std::move(headers), std::move(body)});
    finish(close_code::abnormal, std::move(reason), false, e);
  }

  void server_refuse(const detail::handshake_failure& f, time_point now) {
    queue_raw(detail::build_reject_response(f.status, f.reason, f.headers), now);
    handshake_failed(f.ec, f.status, f.reason, {}, {}, now);
  }

  void opened_now(opened ev, time_point now) {
    state_ = connection_state::open;
    hs_ = hs_step::done;
    http_.reset();
    deadlines_.disarm(deadline::handshake);
    last_rx_ = now;
    arm_heartbeat(now);
    push(std::move(ev));
  }

  void arm_heartbeat(time_point now) {
    if (state_ != connection_state::open) return;
    if (!awaiting_pong_) deadlines_.arm_after(deadline::ping, now, cfg().ping_interval);
    deadlines_.arm_after(deadline::idle, now, cfg().idle_timeout);
  }

  // ---- input ----
  // The input not decoded yet (the decoder unmasks payloads in place, hence mutable).
  std::span<std::byte> unread() noexcept {
    if (!act_) return {};
    if (!act_->borrowed.empty()) return act_->borrowed.subspan(act_->borrowed_pos);
    return {act_->in_buf.data() + act_->in_pos, act_->in_buf.size() - act_->in_pos};
  }
  // `n` bytes of unread() were decoded.
  void advance(std::size_t n) noexcept {
    if (!act_->borrowed.empty()) {
      act_->borrowed_pos += n;
    } else {
      act_->in_pos += n;
    }
  }
  void discard_unread() noexcept {
    if (!act_) return;
    act_->in_pos = act_->in_buf.size();
    act_->borrowed_pos = act_->borrowed.size();
  }

  // Any byte from the peer proves it is alive (heartbeat) and not idle.
  void note_received(time_point now) {
    last_rx_ = now;
    if (awaiting_pong_) {
      awaiting_pong_ = false;
      deadlines_.disarm(deadline::pong);
    }
    arm_heartbeat(now);
  }

  // Ends a receive_in_place(): what the caller's buffer still holds that the connection needs
  // moves into in_buf. Normally that is the undecoded rest (none, when the last frame was
  // whole). Events not pulled yet may point into the buffer too (the caller stopped draining):
  // then all of it moves, and their spans with it.
  void return_borrowed() {
    if (!act_ || act_->borrowed.empty()) return;
    auto& a = *act_;
    const std::span<std::byte> b = std::exchange(a.borrowed, {});
    const std::size_t pos = std::exchange(a.borrowed_pos, 0);
    a.in_buf.clear();
    a.in_pos = 0;
    if (!has_events()) {
      if (state_ == connection_state::closed) return;  // input is ignored from now on
      a.in_buf.assign(b.begin() + static_cast<std::ptrdiff_t>(pos), b.end());
      return;
    }
    a.in_buf.assign(b.begin(), b.end());
    a.in_pos = pos;
    const std::byte* const from = b.data();
    const std::byte* const end = from + b.size();
    const std::byte* const to = a.in_buf.data();
    const std::less<const std::byte*> before;  // a total order, also for pointers elsewhere
    const auto rebase = [&](auto& view) {
      using view_t = std::remove_reference_t<decltype(view)>;
      const auto* p = reinterpret_cast<const std::byte*>(view.data());
      if (before(p, from) || !before(p, end)) return;  // not in the buffer (owned, or empty)
      view = view_t(reinterpret_cast<typename view_t::const_pointer>(to + (p - from)), view.size());
    };
    for (std::size_t i = a.head; i < a.events.size(); ++i) {
      std::visit(
          [&](auto& ev) {
            using E = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<E, message> || std::is_same_v<E, message_chunk> ||
                          std::is_same_v<E, ping_received> || std::is_same_v<E, pong_received>) {
              rebase(ev.payload);
            } else if constexpr (std::is_same_v<E, close_received>) {
              rebase(ev.reason);
            }
          },
          a.events[i]);
    }
  }

  void process(time_point now) {
    if (now > now_) now_ = now;
    if (act_ && act_->assembled) {
      act_->assembly.clear();
      act_->assembled = false;
    }
    while (!has_events() && state_ != connection_state::closed) {
      if (state_ == connection_state::connecting) {
        if (!process_handshake(now)) break;
      } else if (close_received_) {
        // RFC 6455 §5.5.1: nothing follows a close frame.
        discard_unread();
        break;
      } else if (!process_frame(now)) {
        break;
      }
    }
    // At EOF, bytes that can no longer be used (after a close frame, or frames behind an
    // unanswered upgrade) must not keep the connection alive.
    if (eof_ && !has_events() && state_ != connection_state::closed &&
        (unread().empty() || close_received_ || hs_ == hs_step::awaiting_app))
      handle_eof(now);
  }

  // Returns false when more input is needed (or the app must answer first).
  bool process_handshake(time_point now) {
    if (hs_ == hs_step::awaiting_app || !http_) return false;
    if (role_ == role::client && hs_ != hs_step::awaiting_reply) return false;
    std::size_t used = 0;
    auto avail = unread();
    auto st = http_->feed({avail.data(), avail.size()}, used);
    if (act_) advance(used);
    if (st == detail::http_parser::status::need_more) return false;
    if (role_ == role::server) {
      if (st == detail::http_parser::status::error) {
        server_refuse(detail::parse_failure(http_->error(), http_->error_detail()), now);
        return true;
      }
      upgrade_request req;
      hsd_ = std::make_unique<handshake_data>();
      auto failure = detail::check_upgrade_request(http_->head(), req, hsd_->client_key);
      if (failure && cfg().plain_http && failure->ec == errc::missing_upgrade &&
          !http_->head().header("upgrade")) {
        push(plain_request(http_->head()));
        hs_ = hs_step::awaiting_app;
        plain_ = true;
        return true;
      }
      if (failure) {
        server_refuse(*failure, now);
        return true;
      }
      hs_ = hs_step::awaiting_app;
      hsd_->offered_subprotocols = req.subprotocols;
      push(std::move(req));
      return true;
    }
    return client_response(st, now);
  }

  static http_request plain_request(const detail::http_head& head) {
    http_request r;
    r.method = head.method;
    r.target = head.target;
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    r.headers = head.headers;
    return r;
  }

  bool client_response(detail::http_parser::status st, time_point now) {
    if (st == detail::http_parser::status::error) {
      const errc e = http_->error();
      handshake_failed(e, 0, make_error_code(e).message() + ": " + http_->error_detail(), {}, {},
                       now);
      return true;
    }
    auto head = http_->head();
    opened ev;
    const auto ec = detail::check_upgrade_response(head, hsd_->client_key, hsd_->offered, ev);
    if (ec) {
      std::string reason = head.status != 101
                               ? "server answered " + std::to_string(head.status) + " " +
                                     head.reason_phrase
                               : ec.message();
      handshake_failed(static_cast<errc>(ec.value()), head.status, std::move(reason),
                       std::move(head.headers), std::move(head.body), now);
      return true;
    }
    hsd_.reset();
    opened_now(std::move(ev), now);
    return true;
  }

  // Decodes one item. Returns false when more input is needed.
  bool process_frame(time_point now) {
    if (!act_) return false;  // no input
    auto& a = *act_;
    std::size_t used = 0;
    auto it = a.decoder.next(unread(), used);
    advance(used);
    using R = detail::frame_decoder::result;
    switch (it.type) {
      case R::need_more:
        return false;
      case R::error:
        fail(a.decoder.error(), now);
        return true;
      case R::data:
        on_data(it);
        return true;
      case R::control:
        on_control(it, now);
        return true;
    }
    return false;
  }

  void on_data(const detail::frame_decoder::item& it) {
    if (cfg().delivery == delivery::chunks) {
      push(message_chunk{it.kind, it.first, it.last, it.payload});
      return;
    }
    if (it.first && it.last) {  // the whole message is in one piece: no copy
      push(message{it.kind, it.payload});
      return;
    }
    auto& a = act();
    a.assembly.insert(a.assembly.end(), it.payload.begin(), it.payload.end());
    if (it.last) {
      a.assembled = true;
      push(message{it.kind, {a.assembly.data(), a.assembly.size()}});
    }
  }

  void on_control(const detail::frame_decoder::item& it, time_point now) {
    const bytes_view payload{it.payload.data(), it.payload.size()};
    if (it.op == opcode::ping) {
      // RFC 6455 §5.5.2: answer with a pong carrying the same payload, unless closing.
      if (!close_sent_) queue_frame(true, opcode::pong, payload, now);
      push(ping_received{payload});
      return;
    }
    if (it.op == opcode::pong) {
      // RFC 6455 §5.5.3: an unsolicited pong is allowed; it proves liveness all the same.
      push(pong_received{payload});
      return;
    }
    detail::close_payload cp;
    if (const errc e = detail::parse_close_payload(payload, cp); e != errc{}) {
      fail(e, now);
      return;
    }
    close_received_ = true;
    close_code_ = cp.code;
    act().close_reason.assign(cp.reason);
    push(close_received{cp.code, cp.reason});
    // RFC 6455 §5.5.1: reply with a close frame if we have not sent one; echo the code.
    if (!close_sent_) {
      initiated_locally_ = false;
      queue_close(cp.code == close_code::no_status ? close_code::normal : cp.code, {}, now);
    }
    closing_handshake_done(now);
  }

  // Both close frames have been exchanged. RFC 6455 §7.1.1: the server closes TCP first; the
  // client waits for it (bounded by the close deadline).
  void closing_handshake_done(time_point now) {
    (void)now;
    if (role_ == role::server) {
      finish(close_code_, act().close_reason, true, ending_ec_);
    } else {
      state_ = connection_state::closing;
      deadlines_.disarm(deadline::ping);
      deadlines_.disarm(deadline::pong);
      deadlines_.disarm(deadline::idle);
    }
  }

  void handle_eof(time_point now) {
    if (state_ == connection_state::connecting) {
      if (role_ == role::client && http_ && hs_ == hs_step::awaiting_reply) {
        if (http_->finish() == detail::http_parser::status::complete) {
          client_response(detail::http_parser::status::complete, now);
          return;
        }
        if (http_->head().status != 0) {  // a head arrived, its body was cut short: report it
          auto head = http_->head();
          handshake_failed(errc::bad_status, head.status,
                           "server answered " + std::to_string(head.status) + " " +
                               head.reason_phrase + " (body cut short)",
                           std::move(head.headers), std::move(head.body), now);
          return;
        }
      }
      if (role_ == role::client) {
        handshake_failed(errc::eof_without_close, 0,
                         "connection closed before the server's handshake response", {}, {}, now);
      } else {
        finish(close_code::abnormal, "connection closed during the opening handshake", false,
               errc::eof_without_close);
      }
      return;
    }
    if (close_received_ && close_sent_) {
      finish(close_code_, act().close_reason, true, ending_ec_);
      return;
    }
    // RFC 6455 §7.1.5: no close frame received: the close code is 1006.
    finish(close_code::abnormal, "connection closed without a close frame", false,
           errc::eof_without_close);
  }

  // Ordered so that the small members share the last words: every idle connection has one.
  std::shared_ptr<const config> shared_cfg_;  // shared by every connection of a server
  const config& cfg() const noexcept { return *shared_cfg_; }
  std::unique_ptr<detail::http_parser> http_;
  // What the handshake needs and nothing after it: allocated for the handshake, freed after it.
  struct handshake_data {
    std::string client_key;                          // Sec-WebSocket-Key (ours or the client's)
    client_options offered;                          // client: what the request offered
    std::vector<std::string> offered_subprotocols;  // server: what the client offered
  };
  std::unique_ptr<handshake_data> hsd_;
  std::unique_ptr<active_state> act_;
  detail::deadlines deadlines_;
  time_point last_rx_{};
  time_point now_{};  // the latest `now` passed in
  role role_;
  connection_state state_ = connection_state::connecting;
  hs_step hs_ = hs_step::reading;
  bool awaiting_pong_ = false;
  bool eof_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  bool initiated_locally_ = false;
  bool send_in_message_ = false;
  bool plain_ = false;  // the waiting request is plain HTTP (config::plain_http)
  close_code close_code_ = close_code::abnormal;
  // errc{} (0) is "none": a wsx error code in 4 bytes instead of std::error_code's 16.
  errc ending_ec_{};  // why a clean close was started locally (idle timeout)
  errc sticky_{};     // why the connection ended, for receive() and receive_eof()
  static std::error_code as_error_code(errc e) noexcept {
    return e == errc{} ? std::error_code{} : make_error_code(e);
  }
};

connection::connection(role r, const config& cfg, time_point now)
    : impl_(std::make_unique<impl>(r, std::make_shared<const config>(cfg), now)) {}
connection::connection(std::unique_ptr<impl> i) noexcept : impl_(std::move(i)) {}
connection connection::with_shared_config(role r, std::shared_ptr<const config> cfg,
                                          time_point now) {
  return connection(std::make_unique<impl>(r, std::move(cfg), now));
}
connection::~connection() = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

std::error_code connection::connect(const client_options& opts, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::client || m.hs_ != hs_step::reading ||
      m.state_ != connection_state::connecting)
    return errc::invalid_state;
  if (opts.host.empty() || !detail::valid_header_value(opts.host) ||
      !detail::valid_header_value(opts.origin) || !detail::valid_request_target(opts.target))
    return errc::invalid_argument;
  for (const auto& p : opts.subprotocols)
    if (p.empty() || !detail::valid_header_name(p)) return errc::invalid_argument;
  if (!detail::valid_answer_headers(detail::answer_kind::request, opts.extra_headers))
    return errc::invalid_argument;
  std::string key = detail::make_client_key();
  if (key.empty()) return errc::invalid_state;
  m.hsd_ = std::make_unique<impl::handshake_data>();
  m.hsd_->client_key = std::move(key);
  m.hsd_->offered = opts;
  m.http_ = std::make_unique<detail::http_parser>(detail::http_parser::kind::response,
                                                  m.cfg().max_header_bytes);
  m.hs_ = hs_step::awaiting_reply;
  m.queue_raw(detail::build_client_request(opts, m.hsd_->client_key), now);
  return {};
}

std::error_code connection::receive(bytes_view in, time_point now) {
  auto& m = *impl_;
  if (m.state_ == connection_state::closed || m.eof_) return impl::as_error_code(m.sticky_);
  if (!in.empty()) {
    m.return_borrowed();  // its rest comes first
    auto& a = m.act();
    if (a.in_pos == a.in_buf.size()) {
      a.in_buf.clear();
      a.in_pos = 0;
    } else if (a.in_pos > a.in_buf.size() / 2) {
      a.in_buf.erase(a.in_buf.begin(), a.in_buf.begin() + static_cast<std::ptrdiff_t>(a.in_pos));
      a.in_pos = 0;
    }
    a.in_buf.insert(a.in_buf.end(), in.begin(), in.end());
    m.note_received(now);
  }
  m.process(now);
  return impl::as_error_code(m.sticky_);
}

std::error_code connection::receive_in_place(std::span<std::byte> in, time_point now) {
  auto& m = *impl_;
  if (m.state_ == connection_state::closed || m.eof_) return impl::as_error_code(m.sticky_);
  m.return_borrowed();
  // Borrow only where the decoder alone reads the input: an open connection with nothing left
  // over and no event waiting (the handshake's parser, and bytes behind them, take the copy).
  if (in.empty() || m.state_ == connection_state::connecting || m.has_events() ||
      (m.act_ && m.act_->in_pos != m.act_->in_buf.size()))
    return receive(in, now);
  auto& a = m.act();
  a.in_buf.clear();
  a.in_pos = 0;
  a.borrowed = in;
  a.borrowed_pos = 0;
  m.note_received(now);
  m.process(now);
  return impl::as_error_code(m.sticky_);
}

void connection::release_input() { impl_->return_borrowed(); }

void connection::receive_eof(time_point now) {
  auto& m = *impl_;
  if (m.state_ == connection_state::closed || m.eof_) return;
  m.return_borrowed();
  m.eof_ = true;
  m.process(now);
}

std::optional<event> connection::next_event() {
  auto& m = *impl_;
  if (!m.has_events()) {
    if (m.act_) {
      m.act_->events.clear();
      m.act_->head = 0;
    }
    // No clock here: the replies process() may queue are stamped with the latest `now` seen.
    m.process(m.now_);
  }
  if (!m.has_events()) return std::nullopt;
  return std::move(m.act_->events[m.act_->head++]);  // straight into the optional: one move
}

std::error_code connection::accept(const accept_options& opts, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.hs_ != hs_step::awaiting_app || m.plain_ ||
      m.state_ != connection_state::connecting)
    return errc::invalid_state;
  if (!opts.subprotocol.empty() &&
      std::find(m.hsd_->offered_subprotocols.begin(), m.hsd_->offered_subprotocols.end(),
                opts.subprotocol) == m.hsd_->offered_subprotocols.end())
    return errc::invalid_argument;
  if (!detail::valid_answer_headers(detail::answer_kind::upgrade, opts.extra_headers))
    return errc::invalid_argument;
  m.queue_raw(detail::build_accept_response(m.hsd_->client_key, opts), now);
  m.hsd_.reset();
  m.opened_now(opened{opts.subprotocol, {}, {}}, now);
  return {};
}

std::error_code connection::reject(int http_status, std::string_view reason, time_point now,
                                   std::span<const header_field> extra_headers) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.hs_ != hs_step::awaiting_app ||
      m.state_ != connection_state::connecting)
    return errc::invalid_state;
  if (http_status < 400 || http_status > 599 ||
      !detail::valid_answer_headers(detail::answer_kind::refusal, extra_headers))
    return errc::invalid_argument;
  m.queue_raw(detail::build_reject_response(http_status, reason, extra_headers), now);
  m.handshake_failed(errc::upgrade_rejected, http_status, std::string(reason), {}, {}, now);
  return {};
}

std::error_code connection::respond(int status, std::span<const header_field> headers,
                                    std::string_view body, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.hs_ != hs_step::awaiting_app || !m.plain_ ||
      m.state_ != connection_state::connecting)
    return errc::invalid_state;
  if (!detail::valid_respond(status, body) ||
      !detail::valid_answer_headers(detail::answer_kind::plain, headers))
    return errc::invalid_argument;
  m.queue_raw(detail::build_http_response(status, headers, body), now);
  m.hs_ = hs_step::done;
  m.initiated_locally_ = true;
  m.finish(close_code::abnormal, "plain HTTP request answered", false, errc{});
  return {};
}

std::error_code connection::send_shared(const shared_message& msg, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.state_ != connection_state::open || m.close_sent_ ||
      m.send_in_message_)
    return errc::invalid_state;
  if (msg.empty()) return errc::invalid_argument;
  const auto wire = msg.wire();
  if (m.would_exceed(wire.size())) return errc::output_limit;
  const auto before = m.out_size();
  m.act().out.append_shared(wire, msg.owner());
  m.note_output_grew(before, now);
  return {};
}

std::error_code connection::send(opcode op, bytes_view payload, bool fin, time_point now) {
  auto& m = *impl_;
  if (op != opcode::text && op != opcode::binary && op != opcode::continuation)
    return errc::invalid_argument;
  if (m.state_ != connection_state::open || m.close_sent_) return errc::invalid_state;
  if ((op == opcode::continuation) != m.send_in_message_) return errc::invalid_state;
  const std::size_t fragment = m.cfg().auto_fragment_size;
  const std::size_t piece = fragment ? fragment : payload.size();
  const std::size_t frames = piece ? (payload.size() + piece - 1) / piece : 1;
  if (m.would_exceed(payload.size() + std::max<std::size_t>(frames, 1) * 14))
    return errc::output_limit;
  std::size_t off = 0;
  do {
    const std::size_t n = std::min(piece, payload.size() - off);
    const bool last = off + n == payload.size();
    if (!m.queue_frame(fin && last, op, payload.subspan(off, n), now)) return errc::invalid_state;
    op = opcode::continuation;
    off += n;
  } while (off < payload.size());
  m.send_in_message_ = !fin;
  return {};
}

std::error_code connection::ping(bytes_view payload, time_point now) {
  auto& m = *impl_;
  if (payload.size() > 125) return errc::invalid_argument;
  if (m.state_ != connection_state::open || m.close_sent_) return errc::invalid_state;
  if (m.would_exceed(payload.size() + 14)) return errc::output_limit;
  if (!m.queue_frame(true, opcode::ping, payload, now)) return errc::invalid_state;
  return {};
}

std::error_code connection::pong(bytes_view payload, time_point now) {
  auto& m = *impl_;
  if (payload.size() > 125) return errc::invalid_argument;
  if (m.state_ != connection_state::open || m.close_sent_) return errc::invalid_state;
  if (m.would_exceed(payload.size() + 14)) return errc::output_limit;
  if (!m.queue_frame(true, opcode::pong, payload, now)) return errc::invalid_state;
  return {};
}

std::error_code connection::close(close_code code, std::string_view reason, time_point now) {
  auto& m = *impl_;
  if (m.state_ != connection_state::open || m.close_sent_) return errc::invalid_state;
  if (detail::check_close_request(code, reason) != errc{}) return errc::invalid_argument;
  m.initiated_locally_ = true;
  m.queue_close(code, reason, now);
  m.state_ = connection_state::closing;
  m.deadlines_.disarm(deadline::ping);
  m.deadlines_.disarm(deadline::pong);
  m.deadlines_.disarm(deadline::idle);
  return {};
}

output_view connection::pending_output() const noexcept {
  if (!impl_->act_) return {};
  const auto ranges = impl_->act_->out.pending();
  std::size_t total = 0;
  for (const auto& r : ranges) total += r.size();
  return {ranges.data(), ranges.size(), total};
}

void connection::consume_output(std::size_t n, time_point now) noexcept {
  auto& m = *impl_;
  if (!m.act_) return;  // nothing was ever queued, or all of it went out before a shrink
  auto& out = m.act_->out;
  n = std::min(n, out.size());
  out.consume(n);  // also frees output a deadline dropped while this write held it
  if (n == 0) return;
  // RFC-independent liveness of the writer: progress pushes the write deadline out.
  if (out.empty()) {
    m.deadlines_.disarm(deadline::write);
  } else {
    m.deadlines_.arm_after(deadline::write, now, m.cfg().write_timeout);
  }
}

std::size_t connection::buffered_amount() const noexcept { return impl_->out_size(); }

void connection::shrink_to_fit() noexcept {
  auto& m = *impl_;
  if (!m.act_) return;
  auto& a = *m.act_;
  if (m.state_ == connection_state::open && a.spent()) {
    m.act_.reset();  // between two messages: a fresh one carries on from here
    return;
  }
  if (a.in_pos == a.in_buf.size() && a.borrowed.empty() && !m.has_events()) {
    std::vector<std::byte>().swap(a.in_buf);
    a.in_pos = 0;
    std::vector<event>().swap(a.events);
    a.head = 0;
    if (!a.assembled && a.assembly.empty()) std::vector<std::byte>().swap(a.assembly);
  }
  a.out.shrink_to_fit();
}

std::optional<time_point> connection::next_deadline() const noexcept {
  return impl_->deadlines_.earliest();
}

void connection::on_timer(time_point now) {
  auto& m = *impl_;
  auto& d = m.deadlines_;
  if (d.due(deadline::write, now)) {
    // The peer stopped reading: nothing more can be delivered, so drop what is queued.
    m.drop_output();
    if (m.state_ != connection_state::closed) {
      m.initiated_locally_ = true;
      m.finish(close_code::abnormal, make_error_code(errc::write_timeout).message(), false,
               errc::write_timeout);
    }
    return;
  }
  if (m.state_ == connection_state::closed) return;
  if (d.due(deadline::handshake, now)) {
    m.drop_output();
    m.initiated_locally_ = true;
    std::string reason = make_error_code(errc::handshake_timeout).message();
    if (m.role_ == role::server && m.hs_ == hs_step::awaiting_app) {
      // The request was fine but the application never answered: tell the client so.
      reason = "the server did not answer the upgrade request in time";
      m.queue_raw(detail::build_reject_response(503, reason, {}), now);
      m.handshake_failed(errc::handshake_timeout, 503, reason, {}, {}, now);
    } else {
      m.handshake_failed(errc::handshake_timeout, 0, reason, {}, {}, now);
    }
    return;
  }
  if (d.due(deadline::close, now)) {
    m.drop_output();
    if (m.close_sent_ && m.close_received_) {
      // A client whose server kept TCP open.
      m.finish(m.close_code_, m.act().close_reason, true, m.ending_ec_);
    } else {
      m.finish(close_code::abnormal, make_error_code(errc::close_timeout).message(), false,
               errc::close_timeout);
    }
    return;
  }
  if (d.due(deadline::pong, now)) {
    // Heartbeat: no pong and no other byte since our ping. The peer is gone.
    m.drop_output();
    m.initiated_locally_ = true;
    m.finish(close_code::abnormal, make_error_code(errc::heartbeat_timeout).message(), false,
             errc::heartbeat_timeout);
    return;
  }
  if (d.due(deadline::idle, now)) {
    m.ending_ec_ = errc::idle_timeout;
    m.initiated_locally_ = true;
    m.queue_close(close_code::going_away, "idle timeout", now);
    m.state_ = connection_state::closing;
    d.disarm(deadline::idle);
    d.disarm(deadline::ping);
    d.disarm(deadline::pong);
    return;
  }
  if (d.due(deadline::ping, now) && m.state_ == connection_state::open && !m.close_sent_) {
    m.queue_frame(true, opcode::ping, {}, now);
    m.awaiting_pong_ = true;
    d.disarm(deadline::ping);
    d.arm_after(deadline::pong, now, m.cfg().pong_timeout);
  }
}

connection_state connection::state() const noexcept { return impl_->state_; }
role connection::get_role() const noexcept { return impl_->role_; }
bool connection::wants_read() const noexcept {
  return impl_->state_ != connection_state::closed && !impl_->eof_;
}
bool connection::wants_write() const noexcept { return impl_->out_size() != 0; }
bool connection::should_close_transport() const noexcept {
  return impl_->state_ == connection_state::closed;
}

}  // namespace wsx
