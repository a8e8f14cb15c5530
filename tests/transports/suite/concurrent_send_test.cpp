// Eight threads send 10,000 messages each into one session at once; the other side must receive
// every message exactly once, whole, and each thread's messages in the order that thread sent
// them. Both directions: a server session (sends encoded once, unmasked) and a client session
// (masked): the server side in every mode of every transport, the client side once per transport.
// Built for ThreadSanitizer too (scripts/test runs it; see docs/asio.md for the command).
#include <gtest/gtest.h>

#include <charconv>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::mode;
using wsx::test::wait_until;

constexpr int sender_threads = 8;
constexpr int sends_per_thread = 10'000;
constexpr std::size_t total = static_cast<std::size_t>(sender_threads) * sends_per_thread;

// Collects "thread:sequence" messages (from one strand at a time, but read by the test thread).
struct inbox {
  std::mutex mutex;
  std::vector<std::string> received;

  void add(wsx::bytes_view data) {
    std::lock_guard lock(mutex);
    received.emplace_back(wsx::as_string(data));
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return received.size();
  }
};

// Every message once, whole, in per-thread order.
void expect_complete_and_ordered(const std::vector<std::string>& received) {
  ASSERT_EQ(received.size(), total);
  std::vector<int> next(sender_threads, 0);
  for (const std::string& m : received) {
    const std::size_t colon = m.find(':');
    ASSERT_NE(colon, std::string::npos) << m;
    int thread = -1;
    int seq = -1;
    std::from_chars(m.data(), m.data() + colon, thread);
    std::from_chars(m.data() + colon + 1, m.data() + m.size(), seq);
    ASSERT_TRUE(thread >= 0 && thread < sender_threads) << m;
    ASSERT_EQ(seq, next[static_cast<std::size_t>(thread)])
        << "thread " << thread << " out of order";
    ++next[static_cast<std::size_t>(thread)];
    // "Whole": the payload is exactly what was sent, padding included.
    ASSERT_EQ(m.size(), colon + 1 + std::to_string(seq).size() + 16) << m;
  }
  for (int n : next) EXPECT_EQ(n, sends_per_thread);
}

// Sends from `sender_threads` threads at once into `s`; returns when all are done.
void hammer(const wsx::session_ptr& s) {
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> threads;
  for (int t = 0; t < sender_threads; ++t) {
    threads.emplace_back([s, start, t] {
      start.wait();
      for (int i = 0; i < sends_per_thread; ++i) {
        const std::string msg = std::to_string(t) + ":" + std::to_string(i) + std::string(16, '.');
        ASSERT_FALSE(s->send_text(msg)) << "send " << t << ":" << i;
      }
    });
  }
  go.set_value();
  for (std::thread& t : threads) t.join();
}

enum class direction { server_to_client, client_to_server };

// Which session the threads send into, and how the server runs (Asio with strands: on an
// io_context of four threads). Every send comes from a thread that is not the session's loop.
struct send_case {
  direction dir;
  mode how;
};

class concurrent_send : public ::testing::TestWithParam<send_case> {};

TEST_P(concurrent_send, every_message_arrives_once_whole_and_in_per_thread_order) {
  const direction dir = GetParam().dir;
  const std::unique_ptr<wsx::test::transport> t = wsx::test::make_transport(GetParam().how, 4);
  inbox server_inbox;
  inbox client_inbox;
  std::promise<wsx::session_ptr> server_session;

  wsx::test::server_setup so;
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    server_session.set_value(s);
  };
  so.handlers.on_message = [&](const wsx::session_ptr&, wsx::message_kind, wsx::bytes_view d) {
    server_inbox.add(d);
  };
  const std::unique_ptr<wsx::test::test_server> srv = t->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  std::promise<void> client_open;
  wsx::test::client_setup co;
  co.handlers.on_open = [&](const wsx::session_ptr&, const wsx::opened&) {
    client_open.set_value();
  };
  co.handlers.on_message = [&](const wsx::session_ptr&, wsx::message_kind, wsx::bytes_view d) {
    client_inbox.add(d);
  };
  const std::unique_ptr<wsx::test::test_client> cli = t->client(std::move(co));
  wsx::session_ptr client_session = cli->connect(srv->url());
  ASSERT_EQ(client_open.get_future().wait_for(20s), std::future_status::ready);
  auto server_future = server_session.get_future();
  ASSERT_EQ(server_future.wait_for(20s), std::future_status::ready);
  wsx::session_ptr server_side = server_future.get();

  inbox& target = dir == direction::server_to_client ? client_inbox : server_inbox;
  hammer(dir == direction::server_to_client ? server_side : client_session);
  ASSERT_TRUE(wait_until([&] { return target.size() >= total; }, 120s)) << target.size();
  {
    std::lock_guard lock(target.mutex);
    expect_complete_and_ordered(target.received);
  }

  client_session->close(wsx::close_code::normal, "");
  ASSERT_TRUE(srv->stop_and_wait(5s));
  server_side.reset();
  client_session.reset();
  EXPECT_TRUE(wsx::test::all_sessions_gone());
}

std::vector<send_case> send_cases() {
  std::vector<send_case> out;
  for (const mode m : wsx::test::all_modes()) out.push_back({direction::server_to_client, m});
  for (const mode m : wsx::test::client_modes()) out.push_back({direction::client_to_server, m});
  return out;
}

INSTANTIATE_TEST_SUITE_P(transports, concurrent_send, ::testing::ValuesIn(send_cases()),
                         [](const ::testing::TestParamInfo<send_case>& param_info) {
                           const send_case& c = param_info.param;
                           return std::string(c.dir == direction::server_to_client
                                                  ? "server_to_client_"
                                                  : "client_to_server_") +
                                  wsx::test::mode_name(c.how);
                         });

}  // namespace
