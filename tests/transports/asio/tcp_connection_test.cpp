// tcp_connection's read paths over real sockets: an idle connection reads into the thread's
// buffer, a busy one through a leased buffer (read_lease.hpp) that it returns when it goes
// quiet and on every end. Every message must come back whole and in order whichever path
// read it — sizes on both sides of the lease, a lease filled exactly, pipelined bursts — and no
// lease may outlive its connection.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asio_test_support.hpp"
#include "read_lease.hpp"
#include "wsx/asio/server.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::asio::detail::read_lease;
using wsx::asio::detail::read_lease_pool;
using wsx::test::io_threads;
using wsx::test::peer;
using wsx::test::wait_until;

// Parameter: server_options::single_threaded (one loop thread, no strand) or not (two, a
// strand per connection): the read loop is the same code instantiated for either executor.
class tcp_connection_test : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    lent_before_ = read_lease_pool().lent;
    wsx::asio::server_options o;
    o.single_threaded = GetParam();
    o.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
      s->send(k, d);
    };
    o.handlers.on_close = [this](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                 std::error_code) { ++closes_; };
    srv_.emplace(io_.io(), std::move(o));
    ASSERT_FALSE(srv_->start());
  }
  void TearDown() override {
    srv_->stop(1s, {});
    EXPECT_TRUE(wait_until([&] { return srv_->connection_count() == 0; }));
    io_.finish();
    // Every lease came back, whichever way its connection ended.
    EXPECT_EQ(read_lease_pool().lent, lent_before_);
  }

  std::uint16_t port() const { return srv_->local_endpoint().port(); }
  std::size_t lent() const { return read_lease_pool().lent - lent_before_; }

  // Sends each text and waits for all the echoes; true when they match, in order.
  static bool echoes(peer& p, const std::vector<std::string>& texts) {
    const std::size_t before = p.messages.size();
    for (const std::string& t : texts) p.conn().send_text(t, wsx::clock::now());
    p.pump_once(0);
    if (!p.pump_until([&] { return p.messages.size() >= before + texts.size(); })) return false;
    return std::vector<std::string>(p.messages.begin() + static_cast<std::ptrdiff_t>(before),
                                    p.messages.end()) == texts;
  }

  std::size_t lent_before_ = 0;
  std::atomic<int> closes_{0};
  io_threads io_{GetParam() ? 1u : 2u};
  std::optional<wsx::asio::server> srv_;
};

// A client's masked frame: 2 header bytes + 4 of mask up to 125, 2 + 2 + 4 up to 65535.
std::string text_for_frame_of(std::size_t frame_bytes) {
  const std::size_t header = frame_bytes - 6 <= 125 ? 6 : 8;
  return std::string(frame_bytes - header, 'x');
}

TEST_P(tcp_connection_test, every_size_around_the_lease_comes_back_whole_and_in_order) {
  peer p(port());
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  std::vector<std::string> one_by_one;
  for (std::size_t frame : {7u, 22u, 131u, 1030u, 2047u, 2048u, 2049u, 4096u, 70000u}) {
    std::string t = text_for_frame_of(frame);
    t[0] = static_cast<char>('a' + one_by_one.size());  // each one distinct
    ASSERT_TRUE(echoes(p, {t})) << "frame of " << frame << " bytes";
    one_by_one.push_back(t);
  }
  EXPECT_GE(lent(), 1u);  // small messages after the upgrade: read through a lease
  // Bursts: many frames in one read, frames cut by the lease's end, a lease filled exactly.
  std::vector<std::string> burst;
  for (int i = 0; i < 64; ++i) burst.push_back(std::to_string(i) + std::string(i * 37, 'y'));
  EXPECT_TRUE(echoes(p, burst));
  EXPECT_TRUE(echoes(p, std::vector<std::string>(8, text_for_frame_of(read_lease::size / 2))));
  EXPECT_TRUE(echoes(p, {text_for_frame_of(read_lease::size)}));
}

TEST_P(tcp_connection_test, an_idle_connection_holds_no_lease) {
  peer p(port());
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  p.pump_until([] { return false; }, 200ms);  // the upgrade is done; nothing else comes
  EXPECT_EQ(lent(), 0u);
}

TEST_P(tcp_connection_test, a_quiet_connection_returns_its_lease_and_reads_on) {
  peer p(port());
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  ASSERT_TRUE(echoes(p, {"one"}));
  ASSERT_TRUE(echoes(p, {"two"}));
  EXPECT_EQ(lent(), 1u);
  // After pump::quiet_before_shrink without traffic the leased read is cancelled and the
  // lease returned; the connection waits without one.
  EXPECT_TRUE(p.pump_until([&] { return lent() == 0; }, 10s));
  EXPECT_TRUE(p.connected());
  EXPECT_TRUE(echoes(p, {"three"}));
  EXPECT_TRUE(echoes(p, {"four", "five"}));
  EXPECT_EQ(lent(), 1u);
  EXPECT_EQ(closes_.load(), 0);
}

TEST_P(tcp_connection_test, a_peer_that_vanishes_during_a_leased_read_ends_the_session_once) {
  peer fin(port());
  peer rst(port());
  ASSERT_TRUE(fin.pump_until([&] { return fin.opened; }));
  ASSERT_TRUE(rst.pump_until([&] { return rst.opened; }));
  ASSERT_TRUE(echoes(fin, {"a"}) && echoes(fin, {"b"}));
  ASSERT_TRUE(echoes(rst, {"a"}) && echoes(rst, {"b"}));
  EXPECT_EQ(lent(), 2u);
  ::shutdown(fin.fd(), SHUT_WR);  // FIN without a close frame
  rst.reset();                    // RST
  EXPECT_TRUE(wait_until([&] { return closes_.load() == 2; }));
  EXPECT_TRUE(wait_until([&] { return lent() == 0; }));
  EXPECT_TRUE(wait_until([&] { return srv_->connection_count() == 0; }));
  EXPECT_EQ(closes_.load(), 2);
}

TEST_P(tcp_connection_test, a_closing_handshake_during_a_leased_read_completes) {
  peer p(port());
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  ASSERT_TRUE(echoes(p, {"x"}) && echoes(p, {"y"}));
  EXPECT_EQ(lent(), 1u);
  p.close(wsx::close_code::normal);
  ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
  EXPECT_EQ(p.close_frame, wsx::close_code::normal);
  EXPECT_TRUE(wait_until([&] { return closes_.load() == 1 && lent() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(asio, tcp_connection_test, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "single_threaded" : "strand";
                         });

}  // namespace
