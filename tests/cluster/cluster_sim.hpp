// Test support for the sans-IO cluster units: an in-memory Redis that speaks enough RESP2 for
// the engine (pub/sub, strings, sets, sorted sets, TTLs on a fake clock), and sim_node, one
// engine wired to it through a fake host whose tables the test edits. No sockets, no threads:
// run() moves bytes between the nodes' links and the fake Redis until nothing moves.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine.hpp"
#include "resp.hpp"

namespace cluster_test {

using namespace std::chrono_literals;
using wsx::cluster::detail::reply;
using wsx::cluster::detail::time_point;

inline std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
inline std::string integer(long long v) { return ":" + std::to_string(v) + "\r\n"; }
inline std::string array_head(std::size_t n) { return "*" + std::to_string(n) + "\r\n"; }

class fake_redis {
 public:
  struct conn {
    std::unique_ptr<wsx::cluster::detail::resp_reader> reader =
        std::make_unique<wsx::cluster::detail::resp_reader>(1 << 24);
    std::string out;
    std::set<std::string> subs;
    bool open = true;
  };

  int connect() {
    conns_.push_back(std::make_unique<conn>());
    return static_cast<int>(conns_.size() - 1);
  }
  conn& at(int id) { return *conns_[static_cast<std::size_t>(id)]; }
  void close(int id) { at(id).open = false; }
  // Every connection dropped and every key lost (a restart without persistence).
  void restart() {
    for (auto& c : conns_) c->open = false;
    strings_.clear();
    sets_.clear();
    zsets_.clear();
    expiry_.clear();
  }
  void set_now(time_point now) { now_ = now; }
  // Channels subscribed by connection `id`.
  const std::set<std::string>& subscriptions(int id) { return at(id).subs; }
  bool exists(const std::string& key) {
    expire();
    return strings_.contains(key) || sets_.contains(key) || zsets_.contains(key);
  }
  std::set<std::string> set_members(const std::string& key) {
    expire();
    return sets_.contains(key) ? sets_[key] : std::set<std::string>{};
  }

  void receive(int id, std::string_view bytes) {
    conn& c = at(id);
    if (!c.open) return;
    (void)c.reader->receive(std::span<const char>(bytes.data(), bytes.size()), [&](reply& r) {
      std::vector<std::string> args;
      for (const reply& e : r.elements) args.push_back(e.str);
      execute(c, args);
    });
  }

 private:
  void expire() {
    for (auto it = expiry_.begin(); it != expiry_.end();) {
      if (it->second <= now_) {
        strings_.erase(it->first);
        sets_.erase(it->first);
        zsets_.erase(it->first);
        it = expiry_.erase(it);
      } else {
        ++it;
      }
    }
  }
  void drop_empty(const std::string& key) {
    if (sets_.contains(key) && sets_[key].empty()) {
      sets_.erase(key);
      expiry_.erase(key);
    }
  }

  void execute(conn& c, std::vector<std::string>& a) {
    expire();
    std::string cmd = a.empty() ? "" : a[0];
    std::transform(cmd.begin(), cmd.end(), cmd.begin(), ::toupper);
    std::string& o = c.out;
    if (cmd == "PING") {
      o += c.subs.empty() ? "+PONG\r\n" : array_head(2) + bulk("pong") + bulk("");
    } else if (cmd == "SUBSCRIBE" || cmd == "UNSUBSCRIBE") {
      const bool sub = cmd == "SUBSCRIBE";
      for (std::size_t i = 1; i < a.size(); ++i) {
        if (sub)
          c.subs.insert(a[i]);
        else
          c.subs.erase(a[i]);
        o += array_head(3) + bulk(sub ? "subscribe" : "unsubscribe") + bulk(a[i]) +
             integer(static_cast<long long>(c.subs.size()));
      }
    } else if (cmd == "PUBLISH") {
      long long n = 0;
      for (auto& other : conns_) {
        if (other->open && other->subs.contains(a[1])) {
          other->out += array_head(3) + bulk("message") + bulk(a[1]) + bulk(a[2]);
          ++n;
        }
      }
      o += integer(n);
    } else if (cmd == "SET") {
      strings_[a[1]] = a[2];
      expiry_.erase(a[1]);
      if (a.size() >= 5) expiry_[a[1]] = now_ + std::chrono::milliseconds(std::stoll(a[4]));
      o += "+OK\r\n";
    } else if (cmd == "DEL") {
      long long n = 0;
      for (std::size_t i = 1; i < a.size(); ++i) {
        n += static_cast<long long>(strings_.erase(a[i]) + sets_.erase(a[i]) + zsets_.erase(a[i]));
        expiry_.erase(a[i]);
      }
      o += integer(n);
    } else if (cmd == "SADD" || cmd == "SREM") {
      long long n = 0;
      for (std::size_t i = 2; i < a.size(); ++i) {
        n += cmd == "SADD" ? sets_[a[1]].insert(a[i]).second : sets_[a[1]].erase(a[i]) > 0;
      }
      drop_empty(a[1]);
      o += integer(n);
    } else if (cmd == "PEXPIRE") {
      const bool has = strings_.contains(a[1]) || sets_.contains(a[1]) || zsets_.contains(a[1]);
      if (has) expiry_[a[1]] = now_ + std::chrono::milliseconds(std::stoll(a[2]));
      o += integer(has ? 1 : 0);
    } else if (cmd == "ZADD") {
      zsets_[a[1]][a[3]] = std::stod(a[2]);
      o += integer(1);
    } else if (cmd == "ZREM") {
      o += integer(static_cast<long long>(zsets_[a[1]].erase(a[2])));
    } else if (cmd == "ZREMRANGEBYSCORE") {
      const double max = std::stod(a[3].substr(a[3][0] == '(' ? 1 : 0));
      long long n = 0;
      auto& z = zsets_[a[1]];
      for (auto it = z.begin(); it != z.end();) {
        if (it->second < max) {
          it = z.erase(it);
          ++n;
        } else {
          ++it;
        }
      }
      o += integer(n);
    } else if (cmd == "ZRANGE") {
      const auto& z = zsets_[a[1]];
      o += array_head(z.size());
      for (const auto& [m, _] : z) o += bulk(m);
    } else if (cmd == "MGET") {
      o += array_head(a.size() - 1);
      for (std::size_t i = 1; i < a.size(); ++i) {
        o += strings_.contains(a[i]) ? bulk(strings_[a[i]]) : "$-1\r\n";
      }
    } else if (cmd == "SMEMBERS") {
      const auto s = sets_.contains(a[1]) ? sets_[a[1]] : std::set<std::string>{};
      o += array_head(s.size());
      for (const std::string& m : s) o += bulk(m);
    } else {
      o += "-ERR unknown command '" + cmd + "'\r\n";
    }
  }

  std::vector<std::unique_ptr<conn>> conns_;
  time_point now_{};
  std::map<std::string, std::string> strings_;
  std::map<std::string, std::set<std::string>> sets_;
  std::map<std::string, std::map<std::string, double>> zsets_;
  std::map<std::string, time_point> expiry_;
};

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
