// The transport-independent pump (transports/common/src/pump.cpp) driven by a fake transport: no
// sockets, no threads, a fake clock. A client-side wsx::connection in memory plays the peer. What
// a transport may rely on: one write outstanding at most, commands from other threads applied in
// order after a single wake-up, exact backpressure accounting, and a session that ends exactly
// once (table, stats, close handler) whatever ends it.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pump.hpp"

namespace {

using namespace std::chrono_literals;

// The transport side, recording what the pump asked for.
struct fake_io final : wsx::transport_io {
  std::string wire;                       // bytes the "socket" took
  std::size_t take_per_write = SIZE_MAX;  // how much one write() takes
  bool writes_complete_later = false;     // write() starts an operation (like TLS)
  bool fail_writes = false;
  int writes = 0;
  int outstanding = 0;
  int max_outstanding = 0;
  int wakes = 0;
  int graceful_closes = 0;
  int immediate_closes = 0;
  bool loop_thread = true;
  std::optional<wsx::time_point> timer;

  wsx::write_result write(const wsx::output_view& out) override {
    ++writes;
    if (fail_writes) return {0, false, std::make_error_code(std::errc::connection_reset)};
    if (writes_complete_later) {
      max_outstanding = std::max(max_outstanding, ++outstanding);
      return {0, true, {}};
    }
    std::size_t n = 0;
    for (const wsx::bytes_view& r : out) {
      const std::size_t take = std::min(r.size(), take_per_write - n);
      wire.append(wsx::as_string(r.first(take)));
      n += take;
      if (n == take_per_write) break;
    }
    return {n, false, {}};
  }
  void resume_reading() override {}
  void set_timer(std::optional<wsx::time_point> at) override { timer = at; }
  void close_gracefully() override { ++graceful_closes; }
  void close_now() override { ++immediate_closes; }
  bool on_loop_thread() const noexcept override { return loop_thread; }
  void wake() override { ++wakes; }
};

// A pump, its fake transport and a peer, wired for one server session.
struct rig {
  struct owner {
    owner(std::shared_ptr<wsx::pump_context> ctx, wsx::time_point now)
        : p(std::move(ctx), io, "10.0.0.1:5000", now) {}
    fake_io io;
    wsx::pump p;
  };

  explicit rig(std::shared_ptr<wsx::pump_context> c = make_context()) : ctx(std::move(c)) {
    o = std::make_shared<owner>(ctx, now);
    o->p.start(std::shared_ptr<wsx::pump>(o, &o->p));
    wsx::client_options request;
    request.host = "x";
    request.target = "/?u";
    peer.connect(request, now);
    deliver_to_pump();
    deliver_to_peer();
    drain_peer();
    io().writes = 0;  // count from the open session on
  }

  static std::shared_ptr<wsx::pump_context> make_context() {
    auto c = std::make_shared<wsx::pump_context>();
    c->cfg.delivery = wsx::delivery::whole_messages;
    c->cfg.ping_interval = wsx::duration::zero();
    c->table = std::make_shared<wsx::connection_table>();
    c->counters = std::make_shared<wsx::stats>();
    c->on_upgrade = [](const wsx::upgrade_context& u) {
      return wsx::upgrade_decision::accept("user-" + u.request().query);
    };
    return c;
  }

  fake_io& io() { return o->io; }
  wsx::pump& pump() { return o->p; }

  // Peer → pump: whatever the peer has queued.
  void deliver_to_pump() {
    for (;;) {
      const wsx::output_view out = peer.pending_output();
      if (out.total_bytes() == 0) return;
      for (const wsx::bytes_view& r : out) input(r);
      peer.consume_output(out.total_bytes(), now);
    }
  }
  // Bytes as the transport's read buffer would hold them (the pump decodes them in place).
  void input(wsx::bytes_view bytes) {
    std::vector<std::byte> buffer(bytes.begin(), bytes.end());
    pump().on_input(buffer, now);
  }
  // Everything the peer has queued, as one read would bring it.
  std::string peer_output() {
    std::string wire;
    for (;;) {
      const wsx::output_view out = peer.pending_output();
      if (out.total_bytes() == 0) return wire;
      for (const wsx::bytes_view& r : out) wire.append(wsx::as_string(r));
      peer.consume_output(out.total_bytes(), now);
    }
  }
  // Pump → peer: what the fake socket took.
  void deliver_to_peer() {
    peer.receive(wsx::as_bytes(io().wire), now);
    io().wire.clear();
  }
  std::vector<std::string> drain_peer() {
    std::vector<std::string> texts;
    while (auto ev = peer.next_event()) {
      if (auto* m = std::get_if<wsx::message>(&*ev)) texts.emplace_back(wsx::as_string(m->payload));
    }
    return texts;
  }

  wsx::time_point now = wsx::time_point{} + 1h;
  std::shared_ptr<wsx::pump_context> ctx;
  std::shared_ptr<owner> o;
  wsx::connection peer{wsx::role::client, peer_config(), now};

 private:
  static wsx::config peer_config() {
    wsx::config cfg;
    cfg.delivery = wsx::delivery::whole_messages;
    return cfg;
  }
};

TEST(pump, accepts_with_the_hooks_user_and_files_the_session) {
  rig r;
  ASSERT_TRUE(r.pump().handle());
  EXPECT_EQ(r.pump().handle()->user_id(), "user-u");
  EXPECT_EQ(r.pump().handle()->remote_endpoint(), "10.0.0.1:5000");
  EXPECT_EQ(r.ctx->table->sessions_of("user-u").size(), 1u);
  EXPECT_EQ(r.ctx->counters->handshakes_accepted.load(), 1u);
  EXPECT_EQ(r.peer.state(), wsx::connection_state::open);
}

// The transport reads into one buffer and reuses it as soon as on_input() returns: a message
// cut between two reads, or left for later by a paused handler, must not depend on it.
TEST(pump, the_read_buffer_is_free_again_when_on_input_returns) {
  auto ctx = rig::make_context();
  std::vector<std::string> got;
  ctx->handlers.on_message = [&](const wsx::session_ptr&, wsx::message_kind,
                                 wsx::bytes_view payload) {
    got.emplace_back(wsx::as_string(payload));
  };
  rig r(ctx);
  for (const char* text : {"one", "two", "three"}) {
    ASSERT_FALSE(r.peer.send(wsx::opcode::text, wsx::as_bytes(std::string(text)), true, r.now));
  }
  const std::string wire = r.peer_output();
  const std::size_t cut = wire.size() - 8;  // inside the last frame's mask key (11 bytes)
  std::vector<std::byte> buffer(wsx::as_bytes(wire).begin(), wsx::as_bytes(wire).end());
  r.pump().on_input(std::span(buffer).first(cut), r.now);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  std::fill(buffer.begin(), buffer.end(), std::byte{0xEE});  // the next read lands here
  std::copy(wire.begin() + static_cast<std::ptrdiff_t>(cut), wire.end(),
            reinterpret_cast<char*>(buffer.data()));
  r.pump().on_input(std::span(buffer).first(wire.size() - cut), r.now);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
}

std::error_code send_text(wsx::pump& p, const std::string& text) {
  return p.send(wsx::message_kind::text, wsx::as_bytes(text));
}

TEST(pump, commands_from_other_threads_wake_once_and_keep_their_order) {
  rig r;
  r.io().loop_thread = false;
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(send_text(r.pump(), std::to_string(i)));
  EXPECT_EQ(r.io().wakes, 1);
  EXPECT_EQ(r.io().writes, 0);  // nothing is written off the loop
  r.io().loop_thread = true;
  r.pump().on_wake(r.now);
  r.deliver_to_peer();
  const std::vector<std::string> got = r.drain_peer();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
  EXPECT_EQ(r.ctx->counters->messages_out.load(), 100u);
}

TEST(pump, never_has_two_writes_outstanding) {
  rig r;
  r.io().writes_complete_later = true;
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(send_text(r.pump(), "m" + std::to_string(i)));
  EXPECT_EQ(r.io().writes, 1);
  EXPECT_EQ(r.io().max_outstanding, 1);
  // The write took 5 bytes; the pump writes the rest in one more operation.
  r.io().outstanding = 0;
  r.pump().on_write_complete(5, {}, r.now);
  EXPECT_EQ(r.io().writes, 2);
  EXPECT_EQ(r.io().max_outstanding, 1);
  EXPECT_EQ(r.pump().buffered_amount(), 10u * 4u - 5u);  // ten frames of 2 + 2 bytes
}

TEST(pump, off_loop_sends_are_admitted_against_the_exact_output_limit) {
  auto ctx = rig::make_context();
  ctx->cfg.max_buffered_output = 1000;
  rig r(ctx);
  r.io().loop_thread = false;
  const std::string payload(100, 'p');  // a 102-byte frame
  int accepted = 0;
  std::error_code last;
  for (int i = 0; i < 20 && !last; ++i) {
    last = send_text(r.pump(), payload);
    if (!last) ++accepted;
  }
  EXPECT_EQ(last, wsx::errc::output_limit);
  EXPECT_EQ(accepted, 9);
  EXPECT_EQ(r.pump().buffered_amount(), 9u * 102u);
  EXPECT_EQ(r.ctx->messages_dropped.load(), 1u);
  EXPECT_EQ(r.ctx->counters->messages_dropped.load(), 1u);
  r.io().loop_thread = true;
  r.pump().on_wake(r.now);  // into the core, then onto the (fake) wire
  EXPECT_EQ(r.pump().buffered_amount(), 0u);
  r.deliver_to_peer();
  EXPECT_EQ(r.drain_peer().size(), 9u);
}

TEST(pump, drain_fires_once_after_the_queue_falls_to_the_low_water_mark) {
  auto ctx = rig::make_context();
  ctx->backpressure.low_water_mark = 100;
  int drains = 0;
  ctx->handlers.on_drain = [&](const wsx::session_ptr&) { ++drains; };
  rig r(ctx);
  r.io().writes_complete_later = true;
  ASSERT_FALSE(send_text(r.pump(), std::string(500, 'd')));
  EXPECT_EQ(drains, 0);
  r.io().outstanding = 0;
  r.pump().on_write_complete(300, {}, r.now);  // 204 left: still above
  EXPECT_EQ(drains, 0);
  r.io().outstanding = 0;
  r.pump().on_write_complete(204, {}, r.now);
  EXPECT_EQ(drains, 1);
  ASSERT_FALSE(send_text(r.pump(), "small"));  // never above the mark: no second drain
  r.io().outstanding = 0;
  r.pump().on_write_complete(7, {}, r.now);
  EXPECT_EQ(drains, 1);
}

TEST(pump, a_failed_write_ends_the_session_once_and_closes_at_once) {
  auto ctx = rig::make_context();
  int closes = 0;
  std::error_code why;
  ctx->handlers.on_close = [&](const wsx::session_ptr& s, wsx::close_code code, std::string_view,
                               std::error_code ec) {
    ++closes;
    why = ec;
    EXPECT_EQ(code, wsx::close_code::abnormal);
    EXPECT_FALSE(s->is_open());
    EXPECT_EQ(s->send_text("from the handler"), wsx::errc::closed);
  };
  rig r(ctx);
  r.io().fail_writes = true;
  EXPECT_FALSE(send_text(r.pump(), "doomed"));  // queued; the write fails right after
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(why, wsx::errc::eof_without_close);
  EXPECT_EQ(r.io().immediate_closes, 1);
  EXPECT_EQ(r.io().graceful_closes, 0);
  EXPECT_TRUE(r.pump().finished());
  EXPECT_EQ(r.ctx->table->session_count(), 0u);
  EXPECT_EQ(send_text(r.pump(), "late"), wsx::errc::closed);
  r.pump().on_eof(r.now);  // nothing more happens
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(r.ctx->counters->closes[6].load(), 1u);
}

TEST(pump, a_peer_close_ends_the_session_once_and_closes_gracefully) {
  auto ctx = rig::make_context();
  int closes = 0;
  ctx->handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code code, std::string_view,
                               std::error_code ec) {
    ++closes;
    EXPECT_EQ(code, wsx::close_code::normal);
    EXPECT_FALSE(ec);
  };
  rig r(ctx);
  r.peer.close(wsx::close_code::normal, "bye", r.now);
  r.deliver_to_pump();
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(r.io().graceful_closes, 1);
  EXPECT_EQ(r.io().immediate_closes, 0);
  EXPECT_EQ(r.ctx->table->session_count(), 0u);
  r.deliver_to_peer();  // the close echo
  r.drain_peer();
  r.peer.receive_eof(r.now);
  r.drain_peer();
  EXPECT_EQ(r.peer.state(), wsx::connection_state::closed);
}

// Messages in and out reach the shared stats once per batch; every exit of a batch publishes.
TEST(pump, counts_every_message_of_a_batch_including_one_that_ends_the_session) {
  auto ctx = rig::make_context();
  std::uint64_t in_seen_by_handler = 0;
  ctx->handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind kind,
                                 wsx::bytes_view payload) {
    in_seen_by_handler = ctx->counters->messages_in.load();
    ASSERT_FALSE(s->send(kind, payload));  // an echo, queued inside the batch
  };
  rig r(ctx);
  for (int i = 0; i < 50; ++i) {
    const std::string text = std::to_string(i);
    ASSERT_FALSE(r.peer.send(wsx::opcode::text, wsx::as_bytes(text), true, r.now));
  }
  r.input(wsx::as_bytes(r.peer_output()));  // all 50 frames in one read
  EXPECT_EQ(in_seen_by_handler, 0u);  // published when the batch ended, not per message
  EXPECT_EQ(r.ctx->counters->messages_in.load(), 50u);
  EXPECT_EQ(r.ctx->counters->messages_out.load(), 50u);
  r.deliver_to_peer();
  EXPECT_EQ(r.drain_peer().size(), 50u);

  // A send on the loop outside any batch is counted at once.
  ASSERT_FALSE(send_text(r.pump(), "alone"));
  EXPECT_EQ(r.ctx->counters->messages_out.load(), 51u);

  // Three messages and the close frame in one read: the batch that ends the session is counted.
  for (const char* text : {"a", "b", "c"}) {
    ASSERT_FALSE(r.peer.send(wsx::opcode::text, wsx::as_bytes(std::string(text)), true, r.now));
  }
  r.peer.close(wsx::close_code::normal, "bye", r.now);
  r.input(wsx::as_bytes(r.peer_output()));
  EXPECT_EQ(r.ctx->counters->messages_in.load(), 53u);
  EXPECT_EQ(r.ctx->counters->messages_out.load(), 54u);
  EXPECT_EQ(r.ctx->table->session_count(), 0u);
}

// Inside a handler, the session's own handle reaches its pump directly (the settle running on
// this thread is its own); a handle of another session — running on this thread or posted to
// from off it — must still reach that other session and never the one whose settle is running.
TEST(pump, a_handler_reaches_its_own_session_and_others_each_through_its_handle) {
  auto ctx_a = rig::make_context();
  auto ctx_b = rig::make_context();
  wsx::session_ptr b_handle;
  ctx_a->handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind,
                                   wsx::bytes_view payload) {
    const std::string text(wsx::as_string(payload));
    ASSERT_FALSE(s->send_text("own:" + text));
    ASSERT_FALSE(b_handle->send_text("cross:" + text));
    EXPECT_EQ(s->buffered_amount(), 0u);  // the fake socket took it all
  };
  rig a(ctx_a);
  rig b(ctx_b);
  b_handle = b.pump().handle();

  // b's loop is this thread too: b writes at once, inside a's settle.
  ASSERT_FALSE(a.peer.send(wsx::opcode::text, wsx::as_bytes(std::string("1")), true, a.now));
  a.input(wsx::as_bytes(a.peer_output()));
  // b's loop is another thread: the send goes to b's mailbox and wakes it.
  b.io().loop_thread = false;
  ASSERT_FALSE(a.peer.send(wsx::opcode::text, wsx::as_bytes(std::string("2")), true, a.now));
  a.input(wsx::as_bytes(a.peer_output()));
  EXPECT_EQ(b.io().wakes, 1);
  b.io().loop_thread = true;
  b.pump().on_wake(b.now);

  a.deliver_to_peer();
  b.deliver_to_peer();
  EXPECT_EQ(a.drain_peer(), (std::vector<std::string>{"own:1", "own:2"}));
  EXPECT_EQ(b.drain_peer(), (std::vector<std::string>{"cross:1", "cross:2"}));
}

}  // namespace

TEST(maybe_time, holds_a_time_or_none_like_an_optional) {
  const wsx::time_point t0{std::chrono::seconds(5)};
  wsx::maybe_time m;
  EXPECT_FALSE(m);
  m = t0;
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, t0);
  EXPECT_EQ(m, wsx::maybe_time(std::optional<wsx::time_point>(t0)));
  EXPECT_NE(m, wsx::maybe_time());
  m = std::optional<wsx::time_point>();
  EXPECT_FALSE(m);
  m = wsx::time_point{};  // the clock's epoch is a time like any other
  EXPECT_TRUE(m);
  m.reset();
  EXPECT_EQ(m, wsx::maybe_time());
  static_assert(sizeof(wsx::maybe_time) == sizeof(wsx::time_point));
}
