// Test support for cluster nodes on real sockets: a WebSocket server and a wsx::cluster node
// sharing its connection table, on one loop thread of either transport (the test names it), and
// clients that connect as a user (?user=NAME) and record what they receive. Used by
// node_test.cpp in-process and by cluster_node_main.cpp as a separate process.
#pragma once

#include <event2/event.h>
#include <event2/thread.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"
#include "wsx/cluster/asio.hpp"
#include "wsx/cluster/libevent.hpp"
#include "wsx/libevent/server.hpp"

namespace cluster_test {

enum class transport { asio, libevent };

inline const char* transport_name(transport t) {
  return t == transport::asio ? "asio" : "libevent";
}

// Accepts every upgrade as the user named by ?user=NAME.
inline wsx::upgrade_decision accept_user(const wsx::upgrade_context& ctx) {
  const std::string_view q = ctx.request().query;
  if (!q.starts_with("user=")) return wsx::upgrade_decision::reject(400, "?user=NAME missing");
  return wsx::upgrade_decision::accept(std::string(q.substr(5)));
}

inline wsx::cluster::options node_options(std::uint16_t redis_port, std::string name,
                                          std::chrono::milliseconds node_timeout) {
  wsx::cluster::options o;
  o.redis_port = redis_port;
  o.node = std::move(name);
  o.node_timeout = node_timeout;
  o.probe_interval = std::chrono::seconds(2);
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  return o;
}

// A server and a cluster node on one loop thread.
class test_node {
 public:
  virtual ~test_node() = default;
  virtual wsx::cluster::node& cluster() = 0;
  virtual std::uint16_t port() const = 0;
  virtual wsx::connection_table& table() = 0;
  // Clean stop of both, then the loop thread ends. Idempotent.
  virtual void stop() = 0;
};

// With a room name, every session's user joins that room on open.
template <class ServerOptions>
void join_on_open(ServerOptions& so, const std::string& room,
                  std::unique_ptr<wsx::cluster::node>* node) {
  if (room.empty()) return;
  so.handlers.on_open = [room, node](const wsx::session_ptr& s, const wsx::opened&) {
    (*node)->join(room, s->user_id());
  };
}

class asio_test_node final : public test_node {
 public:
  asio_test_node(std::uint16_t redis_port, std::string name, std::chrono::milliseconds timeout,
                 const std::string& room = {})
      : table_(std::make_shared<wsx::connection_table>()) {
    wsx::asio::server_options so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.table = table_;
    so.on_upgrade = accept_user;
    join_on_open(so, room, &node_);
    server_ = std::make_unique<wsx::asio::server>(io_, std::move(so));
    auto node = std::make_unique<wsx::cluster::asio_node>(io_, table_,
                                                          node_options(redis_port, name, timeout));
    if (server_->start() || node->start()) throw std::runtime_error("asio test node: no start");
    node_ = std::move(node);
    port_ = server_->local_endpoint().port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~asio_test_node() override {
    stop();
    node_.reset();
    server_.reset();
  }
  wsx::cluster::node& cluster() override { return *node_; }
  std::uint16_t port() const override { return port_; }
  wsx::connection_table& table() override { return *table_; }
  void stop() override {
    if (!thread_.joinable()) return;
    static_cast<wsx::cluster::asio_node&>(*node_).stop();
    server_->stop(std::chrono::seconds(1));
    thread_.join();
  }

 private:
  ::asio::io_context io_;
  std::shared_ptr<wsx::connection_table> table_;
  std::unique_ptr<wsx::asio::server> server_;
  std::unique_ptr<wsx::cluster::node> node_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

class libevent_test_node final : public test_node {
 public:
  libevent_test_node(std::uint16_t redis_port, std::string name, std::chrono::milliseconds timeout,
                     const std::string& room = {})
      : table_(std::make_shared<wsx::connection_table>()) {
    static const int threads_ready = evthread_use_pthreads();  // only for event_base_loopbreak
    (void)threads_ready;
    base_ = event_base_new();
    wsx::libevent::server_options so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.table = table_;
    so.on_upgrade = accept_user;
    join_on_open(so, room, &node_);
    server_ = std::make_unique<wsx::libevent::server>(base_, std::move(so));
    auto node = std::make_unique<wsx::cluster::libevent_node>(
        base_, table_, node_options(redis_port, name, timeout));
    if (server_->start() || node->start()) throw std::runtime_error("libevent test node: no start");
    node_ = std::move(node);
    port_ = server_->local_endpoint().port;
    thread_ = std::thread([this] { event_base_dispatch(base_); });
  }
  ~libevent_test_node() override {
    stop();
    node_.reset();
    server_.reset();
    event_base_free(base_);
  }
  wsx::cluster::node& cluster() override { return *node_; }
  std::uint16_t port() const override { return port_; }
  wsx::connection_table& table() override { return *table_; }
  void stop() override {
    if (!thread_.joinable()) return;
    static_cast<wsx::cluster::libevent_node&>(*node_).stop();
    server_->stop(std::chrono::seconds(1));
    thread_.join();  // dispatch returns once neither has an event on the base
  }

 private:
  event_base* base_ = nullptr;
  std::shared_ptr<wsx::connection_table> table_;
  std::unique_ptr<wsx::libevent::server> server_;
  std::unique_ptr<wsx::cluster::node> node_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

inline std::unique_ptr<test_node> make_node(transport t, std::uint16_t redis_port, std::string name,
                                            std::chrono::milliseconds node_timeout,
                                            const std::string& room = {}) {
  if (t == transport::asio) {
    return std::make_unique<asio_test_node>(redis_port, std::move(name), node_timeout, room);
  }
  return std::make_unique<libevent_test_node>(redis_port, std::move(name), node_timeout, room);
}

// Polls `pred` until true or `limit` passes. A deadline for what must happen, not a speed check.
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// WebSocket clients on one Asio thread, each connected as a user, recording the text messages
// they receive.
class clients {
 public:
  clients() : guard_(::asio::make_work_guard(io_)) {
    wsx::asio::client_options co;
    co.handlers.on_message = [this](const wsx::session_ptr& s, wsx::message_kind,
                                    wsx::bytes_view data) {
      std::lock_guard lock(mutex_);
      inbox_[s->id()].emplace_back(wsx::as_string(data));
    };
    co.handlers.on_open = [this](const wsx::session_ptr& s, const wsx::opened&) {
      std::lock_guard lock(mutex_);
      open_[s->id()] = true;
    };
    co.handlers.on_close = [this](const wsx::session_ptr& s, wsx::close_code, std::string_view,
                                  std::error_code) {
      std::lock_guard lock(mutex_);
      open_[s->id()] = false;
    };
    client_ = std::make_unique<wsx::asio::client>(io_, std::move(co));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~clients() {
    for (auto& s : sessions_) s->close(wsx::close_code::normal, "");
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  // Connects as `user` to the node on `port` and waits until the session is open (or throws).
  wsx::session_ptr connect(std::uint16_t port, const std::string& user) {
    wsx::session_ptr s =
        client_->connect("ws://127.0.0.1:" + std::to_string(port) + "/?user=" + user);
    if (!wait_until([&] {
          std::lock_guard lock(mutex_);
          return open_[s->id()];
        })) {
      throw std::runtime_error("client for " + user + " did not open");
    }
    sessions_.push_back(s);
    return s;
  }
  std::vector<std::string> received(const wsx::session_ptr& s) {
    std::lock_guard lock(mutex_);
    return inbox_[s->id()];
  }
  std::size_t count(const wsx::session_ptr& s, const std::string& text) {
    const auto got = received(s);
    return static_cast<std::size_t>(std::count(got.begin(), got.end(), text));
  }

 private:
  ::asio::io_context io_;
  ::asio::executor_work_guard<::asio::io_context::executor_type> guard_;
  std::unique_ptr<wsx::asio::client> client_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::uint64_t, std::vector<std::string>> inbox_;
  std::map<std::uint64_t, bool> open_;
  std::vector<wsx::session_ptr> sessions_;
};

}  // namespace cluster_test
