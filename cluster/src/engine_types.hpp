// What the cluster engine and its presence tracker share: their configuration, the host
// interface through which the engine reaches the node's local tables, and the channel and key
// names they use in Redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "redis_link.hpp"
#include "wsx/types.hpp"

namespace wsx::cluster::detail {

struct engine_config {
  std::string node;  // this node's name, 1-255 bytes, unique in the cluster
  std::string prefix = "wsx:";
  milliseconds node_timeout{10000};
  link_config link;  // both links (the subscriber flag is set per link)
};

enum class target : std::uint8_t { user, room, all };

// The node around the engine. Called on the loop thread only, from inside engine calls.
class engine_host {
 public:
  // Whether the user / room has a local member now (the tables are the truth; the engine's
  // notifications only say "look again").
  virtual bool has_local_user(std::string_view user) const = 0;
  virtual bool has_local_room(std::string_view room) const = 0;
  // A message from another node for this node's sessions: every local device of `name`
  // (user), every local member of room `name`, or every local session (all).
  virtual void deliver(target t, std::string_view name, message_kind kind,
                       std::string_view payload) = 0;
  // The set of online users (online()) changed.
  virtual void presence_changed() = 0;
  // Unix time in milliseconds (only to let stale node names age out of the registry).
  virtual std::int64_t wall_ms() const = 0;

 protected:
  ~engine_host() = default;
};

// The Redis names, all under the configured prefix P:
//   channels  P all · P presence · P u:<user> · P r:<room>
//   keys      P nodes (sorted set: node → last refresh, Unix ms) · P node:<node> (its presence
//             version, with a TTL) · P users:<node> (set of its users, same TTL)
struct names {
  std::string prefix;
  std::string all() const { return prefix + "all"; }
  std::string presence() const { return prefix + "presence"; }
  std::string user(std::string_view u) const { return prefix + "u:" + std::string(u); }
  std::string room(std::string_view r) const { return prefix + "r:" + std::string(r); }
  std::string nodes() const { return prefix + "nodes"; }
  std::string node_key(std::string_view n) const { return prefix + "node:" + std::string(n); }
  std::string users_key(std::string_view n) const { return prefix + "users:" + std::string(n); }
};

}  // namespace wsx::cluster::detail
