// The "Per-session state" example of docs/asio.md, compiled from the doc itself (meson extracts
// the block after <!-- user-data-example --> into user_data_snippet.hpp) and run over real
// sockets: each session's replies count its own messages under its own nick and room, its close
// line names what the hook kept, and a request without X-Nick is refused with 400.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asio_test_support.hpp"
#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"

#include "user_data_snippet.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::io_threads;
using wsx::test::wait_until;

TEST(asio_user_data_doc, the_docs_member_server_needs_no_map) {
  io_threads threads(2);
  std::mutex mutex;
  std::vector<std::string> log;
  wsx::asio::server srv(threads.io(), member_server([&](std::string line) {
                          std::lock_guard lock(mutex);
                          log.push_back(std::move(line));
                        }));
  ASSERT_FALSE(srv.start());
  const std::string base = "ws://127.0.0.1:" + std::to_string(srv.local_endpoint().port());

  std::vector<std::string> replies;
  std::optional<wsx::rejected> refused;
  const auto client_for = [&](std::vector<wsx::header_field> headers, int messages) {
    wsx::asio::client_options co;
    co.headers = std::move(headers);
    co.handlers.on_open = [messages](const wsx::session_ptr& s, const wsx::opened&) {
      for (int i = 0; i < messages; ++i) s->send_text("m" + std::to_string(i));
    };
    co.handlers.on_message = [&, messages](const wsx::session_ptr& s, wsx::message_kind,
                                           wsx::bytes_view d) {
      std::lock_guard lock(mutex);
      replies.emplace_back(wsx::as_string(d));
      if (d.size() > 0 && wsx::as_string(d).ends_with("m" + std::to_string(messages - 1))) {
        s->close(wsx::close_code::normal, "");
      }
    };
    co.handlers.on_connect_error = [&](const wsx::session_ptr&, const wsx::rejected& r) {
      std::lock_guard lock(mutex);
      refused = r;
    };
    return co;
  };
  wsx::asio::client zoe(threads.io(), client_for({{"X-Nick", "zoe"}, {"User-Agent", "t/1"}}, 2));
  wsx::asio::client yan(threads.io(), client_for({{"X-Nick", "yan"}}, 1));
  wsx::asio::client nobody(threads.io(), client_for({}, 1));
  zoe.connect(base + "/lobby");
  yan.connect(base + "/kitchen?x=1");
  nobody.connect(base + "/lobby");
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return log.size() == 2 && refused.has_value();
  }));
  std::lock_guard lock(mutex);
  std::sort(replies.begin(), replies.end());
  EXPECT_EQ(replies, (std::vector<std::string>{"yan@/kitchen #1: m0", "zoe@/lobby #1: m0",
                                               "zoe@/lobby #2: m1"}));
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<std::string>{"yan left /kitchen after 1 messages (no User-Agent)",
                                           "zoe left /lobby after 2 messages (t/1)"}));
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(refused->body, "X-Nick header missing\n");
}

}  // namespace
