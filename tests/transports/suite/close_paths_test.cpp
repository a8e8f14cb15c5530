// Every way a session can end, one test each: the session leaves the connection table, its
// close handler runs exactly once with the code and error that path implies, and nothing is
// left behind (no connection, no session object). In every mode of every transport.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <tuple>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::mode;
using wsx::test::peer;
using wsx::test::wait_until;

enum class path {
  peer_close_frame,
  protocol_error,
  heartbeat_timeout,
  write_timeout,
  tcp_reset,
  server_shutdown,
  local_close,
};

struct expectation {
  path how;
  const char* name;
  wsx::close_code code;
  std::error_code ec;
};

const expectation cases[] = {
    {path::peer_close_frame, "peer_close_frame", wsx::close_code::normal, {}},
    {path::protocol_error, "protocol_error", wsx::close_code::protocol_error,
     wsx::errc::bad_opcode},
    {path::heartbeat_timeout, "heartbeat_timeout", wsx::close_code::abnormal,
     wsx::errc::heartbeat_timeout},
    {path::write_timeout, "write_timeout", wsx::close_code::abnormal, wsx::errc::write_timeout},
    {path::tcp_reset, "tcp_reset", wsx::close_code::abnormal, wsx::errc::eof_without_close},
    {path::server_shutdown, "server_shutdown", wsx::close_code::going_away, {}},
    {path::local_close, "local_close", wsx::close_code::normal, {}},
};

// Each path in every mode of every transport.
class close_path : public ::testing::TestWithParam<std::tuple<expectation, mode>> {};

TEST_P(close_path, erases_from_the_table_and_fires_the_close_handler_once) {
  const expectation& want = std::get<0>(GetParam());
  const std::unique_ptr<wsx::test::transport> t =
      wsx::test::make_transport(std::get<1>(GetParam()));

  std::mutex mutex;
  wsx::session_ptr session;
  int close_calls = 0;
  wsx::close_code got_code = wsx::close_code::no_status;
  std::error_code got_ec;
  bool in_table_at_close = true;

  wsx::test::server_setup so;
  so.config.ping_interval = want.how == path::heartbeat_timeout ? 100ms : wsx::duration::zero();
  so.config.pong_timeout = 200ms;
  so.config.write_timeout = want.how == path::write_timeout ? 300ms : std::chrono::seconds(30);
  so.linger = 500ms;
  so.on_upgrade = [](const wsx::upgrade_context&) { return wsx::upgrade_decision::accept("dana"); };
  std::atomic<wsx::test::test_server*> server_ptr{nullptr};
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    {
      std::lock_guard lock(mutex);
      session = s;
    }
    if (want.how == path::write_timeout) {
      // Flood a peer that does not read: far more than the kernel's socket buffers hold.
      const std::string chunk(1024 * 1024, 'x');
      for (int i = 0; i < 16; ++i) EXPECT_FALSE(s->send_text(chunk));
    }
  };
  so.handlers.on_close = [&](const wsx::session_ptr& s, wsx::close_code code, std::string_view,
                             std::error_code ec) {
    std::lock_guard lock(mutex);
    ++close_calls;
    got_code = code;
    got_ec = ec;
    in_table_at_close = !server_ptr.load()->table().sessions_of(s->user_id()).empty();
  };
  const std::unique_ptr<wsx::test::test_server> srv = t->server(std::move(so));
  server_ptr = srv.get();
  ASSERT_FALSE(srv->start_error());

  peer p(srv->port(), "/", want.how == path::write_timeout ? 4096 : 0);
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return session != nullptr;
  }));
  ASSERT_EQ(srv->table().session_count(), 1u);

  const auto closed_once = [&] {
    std::lock_guard lock(mutex);
    return close_calls >= 1;
  };
  switch (want.how) {
    case path::peer_close_frame:
      p.close(wsx::close_code::normal);
      p.pump_until(closed_once);
      break;
    case path::protocol_error:
      // A masked frame with reserved opcode 0x3 (RFC 6455 §5.2): the server must fail us.
      p.write_raw(std::string("\x83\x80\x01\x02\x03\x04", 6));
      p.pump_until(closed_once);
      break;
    case path::heartbeat_timeout:
    case path::write_timeout:
      break;  // the peer is simply never pumped again
    case path::tcp_reset:
      p.reset();
      break;
    case path::server_shutdown:
      srv->stop(5s);
      p.pump_until(closed_once);
      break;
    case path::local_close:
      ASSERT_FALSE(session->close(wsx::close_code::normal, "bye"));
      p.pump_until(closed_once);
      break;
  }
  ASSERT_TRUE(wait_until(closed_once));
  // Let the connection finish completely (closing handshake, linger) before counting again.
  if (p.connected() && want.how != path::heartbeat_timeout && want.how != path::write_timeout) {
    p.pump_until([&] { return !p.connected() || srv->connection_count() == 0; });
  }
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));

  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(close_calls, 1);
    EXPECT_EQ(got_code, want.code);
    EXPECT_EQ(got_ec, want.ec) << got_ec.message();
    EXPECT_FALSE(in_table_at_close);  // erased before the handler runs
    EXPECT_FALSE(session->is_open());
    EXPECT_EQ(session->send_text("late"), wsx::errc::closed);
    session.reset();
  }
  EXPECT_EQ(srv->table().session_count(), 0u);
  EXPECT_EQ(srv->table().user_count(), 0u);
  EXPECT_EQ(srv->counters().open_connections.load(), 0u);
  if (want.how == path::heartbeat_timeout) {
    EXPECT_EQ(srv->counters().heartbeat_timeouts.load(), 1u);
  }
  if (want.how == path::write_timeout) {
    EXPECT_EQ(srv->counters().write_timeouts.load(), 1u);
  }
  EXPECT_TRUE(wsx::test::all_sessions_gone());
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

INSTANTIATE_TEST_SUITE_P(
    transports, close_path,
    ::testing::Combine(::testing::ValuesIn(cases), ::testing::ValuesIn(wsx::test::all_modes())),
    [](const ::testing::TestParamInfo<std::tuple<expectation, mode>>& param_info) {
      return std::string(std::get<0>(param_info.param).name) + "_" +
             wsx::test::mode_name(std::get<1>(param_info.param));
    });

}  // namespace
