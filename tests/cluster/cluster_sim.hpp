// Test support for the sans-IO cluster units: sim_node, one engine wired to the in-memory Redis
// of fake_redis.hpp through a fake host whose tables the test edits, and sim, a fake clock and
// a set of nodes. No sockets, no threads: settle() moves bytes between the nodes' links and the
// fake Redis until nothing moves.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine.hpp"
#include "fake_redis.hpp"

namespace cluster_test {

// One engine, its host's tables and its two connections to the fake Redis.
class sim_node final : public wsx::cluster::detail::engine_host {
 public:
  struct delivered {
    wsx::cluster::detail::target to;
    std::string name;
    std::string payload;
  };

  sim_node(fake_redis& redis, std::string name, std::chrono::milliseconds node_timeout = 9s,
           std::uint64_t seed = 1)
      : redis_(redis), engine_(config(std::move(name), node_timeout), *this, seed) {}

  static wsx::cluster::detail::engine_config config(std::string name,
                                                    std::chrono::milliseconds node_timeout) {
    wsx::cluster::detail::engine_config c;
    c.node = std::move(name);
    c.node_timeout = node_timeout;
    c.link.probe_interval = 2s;
    return c;
  }

  // The fake tables.
  std::multiset<std::string> sessions;  // one entry per local session, by user
  std::set<std::string> rooms;
  std::vector<delivered> inbox;
  int presence_notices = 0;
  bool alive = true;  // false: this node's process "died" (no more I/O, no timers)

  bool has_local_user(std::string_view u) const override {
    return sessions.contains(std::string(u));
  }
  bool has_local_room(std::string_view r) const override { return rooms.contains(std::string(r)); }
  void deliver(wsx::cluster::detail::target t, std::string_view name, wsx::message_kind,
               std::string_view payload) override {
    inbox.push_back({t, std::string(name), std::string(payload)});
  }
  void presence_changed() override { ++presence_notices; }
  std::int64_t wall_ms() const override { return wall_ms_; }

  wsx::cluster::detail::engine& eng() { return engine_; }
  int conn_id(int link) const { return conn_[static_cast<std::size_t>(link)]; }

  void open(const std::string& user) {
    sessions.insert(user);
    engine_.user_changed(user);
  }
  void close(const std::string& user) {
    auto it = sessions.find(user);
    if (it != sessions.end()) sessions.erase(it);
    engine_.user_changed(user);
  }

  // One round: sockets follow the links, output goes to Redis, Redis's output comes back.
  // Returns whether any byte moved.
  bool step(time_point now) {
    if (!alive) return false;
    wall_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    bool moved = false;
    for (int i = 0; i < 2; ++i) {
      auto& l = engine_.link(i);
      auto idx = static_cast<std::size_t>(i);
      if (conn_[idx] >= 0 &&
          (!l.wants_socket() || attempt_[idx] != l.attempt() || !redis_.at(conn_[idx]).open)) {
        if (redis_.at(conn_[idx]).open)
          redis_.close(conn_[idx]);
        else if (l.is_open() && attempt_[idx] == l.attempt())
          l.on_eof(now);
        conn_[idx] = -1;
        moved = true;
      }
      if (l.wants_socket() && conn_[idx] < 0 &&
          l.state() == wsx::cluster::detail::link_state::connecting) {
        if (redis_up) {
          conn_[idx] = redis_.connect();
          attempt_[idx] = l.attempt();
          l.on_connected(now);
        } else {
          l.on_connect_failed(now);
        }
        moved = true;
      }
      if (conn_[idx] >= 0 && l.is_open()) {
        const std::string out(l.pending_output());
        if (!out.empty()) {
          l.consume_output(out.size());
          redis_.receive(conn_[idx], out);
          moved = true;
        }
        std::string in = std::exchange(redis_.at(conn_[idx]).out, {});
        if (!in.empty()) {
          l.receive(std::span<const char>(in.data(), in.size()), now);
          moved = true;
        }
      }
    }
    engine_.pump(now);
    return moved;
  }
  void timer(time_point now) {
    if (!alive) return;
    const auto d = engine_.next_deadline();
    if (d && *d <= now) engine_.on_timer(now);
  }

  bool redis_up = true;  // false: connects fail (Redis down for this node)

 private:
  fake_redis& redis_;
  wsx::cluster::detail::engine engine_;
  std::array<int, 2> conn_{-1, -1};
  std::array<std::uint64_t, 2> attempt_{0, 0};
  std::int64_t wall_ms_ = 0;
};

// A fake clock and a set of nodes on one fake Redis.
struct sim {
  fake_redis redis;
  time_point now = time_point{} + std::chrono::hours(1000);
  std::vector<std::unique_ptr<sim_node>> nodes;

  sim_node& add(std::string name, std::chrono::milliseconds node_timeout = 9s) {
    nodes.push_back(
        std::make_unique<sim_node>(redis, std::move(name), node_timeout, nodes.size() + 1));
    nodes.back()->eng().start(now);
    return *nodes.back();
  }
  // Moves bytes until nothing moves.
  void settle() {
    redis.set_now(now);
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& n : nodes) moved = n->step(now) || moved;
      if (!moved) return;
    }
  }
  // Advances the clock in steps of `step`, firing due timers and settling after each.
  void advance(std::chrono::milliseconds total, std::chrono::milliseconds step = 100ms) {
    for (auto t = std::chrono::milliseconds(0); t < total; t += step) {
      now += step;
      redis.set_now(now);
      for (auto& n : nodes) n->timer(now);
      settle();
    }
  }
};

}  // namespace cluster_test
