// Presence across nodes: this node's users written to Redis under keys with a TTL, the other
// nodes' users read back into a mirror, and the union of both as "who is online".
//
// Each node keeps P users:<node> (its users) and P node:<node> (a version string that changes
// with every change of the set), both expiring after 2/3 of the node timeout and refreshed every
// third of it, and its name in the registry P nodes. A poll reads the registry, the versions
// (MGET), and the sets whose version changed (SMEMBERS). A node polls every third of the node
// timeout and whenever another node announces a change on P presence. A node killed with -9
// stops refreshing: its keys expire and the next poll of every other node drops its users, all
// within the node timeout. A clean stop deletes the keys and announces it: gone at once.
#pragma once

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine_types.hpp"

namespace wsx::cluster::detail {

class presence {
 public:
  // Tags of the command link's replies that belong to presence (engine routes them here).
  static constexpr std::uint64_t tag_base = std::uint64_t{1} << 62;
  static bool owns(std::uint64_t tag) noexcept { return (tag & tag_base) != 0; }

  presence(const engine_config& cfg, engine_host& host, std::uint64_t seed);

  // The command link has (re)connected: write the whole local set again, then poll.
  void on_connected(redis_link& cmd, time_point now);
  void on_disconnected(time_point now);
  // A local user came or went (the engine already knows which).
  void local_user(redis_link& cmd, std::string_view user, bool present);
  // A reply with an owned tag.
  void on_reply(redis_link& cmd, std::uint64_t tag, reply& r, time_point now);
  // Another node announced a change.
  void on_announcement(redis_link& cmd, time_point now);
  // Clean stop: delete this node's keys and announce it (when the link is open).
  void leave(redis_link& cmd);

  std::optional<time_point> next_deadline() const noexcept;
  void on_timer(redis_link& cmd, time_point now);

  bool is_online(std::string_view user) const;
  std::vector<std::string> online() const;
  // Nodes in the mirror (not counting this one), for tests and stats.
  std::size_t remote_nodes() const noexcept { return mirror_.size(); }

 private:
  enum class poll_phase : std::uint8_t { idle, nodes, versions, members };
  enum class tag_kind : std::uint64_t {
    ignore = 1,
    refresh_check,
    poll_nodes,
    poll_versions,
    members
  };
  std::uint64_t tag(tag_kind k, std::uint64_t index = 0) const noexcept {
    return tag_base | (static_cast<std::uint64_t>(k) << 40) | index;
  }
  struct remote {
    std::string version;
    std::vector<std::string> users;
  };

  void announce_version(redis_link& cmd);
  void start_poll(redis_link& cmd, time_point now);
  void finish_poll(redis_link& cmd, time_point now);
  void replace_remote(const std::string& node, remote next);
  void drop_remote(const std::string& node);
  void count(std::string_view user, int delta);
  void notify_if_changed();
  std::chrono::milliseconds ttl() const noexcept { return cfg_.node_timeout * 2 / 3; }
  std::chrono::milliseconds refresh() const noexcept { return cfg_.node_timeout / 3; }

  const engine_config& cfg_;
  engine_host& host_;
  names names_;
  std::set<std::string, std::less<>> local_;
  std::map<std::string, remote, std::less<>> mirror_;
  std::map<std::string, int, std::less<>> counts_;  // user → local (1) + nodes that have it
  bool changed_ = false;

  std::mt19937_64 rng_;
  std::string incarnation_;
  std::uint64_t version_ = 0;
  bool connected_ = false;
  time_point disconnected_at_{};
  bool mirror_stale_ = false;  // disconnected: the mirror is dropped after node_timeout
  time_point next_refresh_{};

  poll_phase phase_ = poll_phase::idle;
  bool poll_again_ = false;
  std::vector<std::string> poll_names_;
  std::map<std::string, std::string> poll_versions_;  // node → version being fetched
  std::size_t members_pending_ = 0;
};

}  // namespace wsx::cluster::detail
