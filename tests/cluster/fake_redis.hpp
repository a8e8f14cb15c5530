// Test support for the sans-IO cluster units: an in-memory Redis that speaks enough RESP2 for
// the engine (pub/sub, strings, sets, sorted sets, TTLs on a fake clock). Commands are read with
// the cluster's own RESP reader (a command is an array of bulk strings).
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "redis_link.hpp"
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

}  // namespace cluster_test
