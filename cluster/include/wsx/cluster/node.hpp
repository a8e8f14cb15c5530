// wsx::cluster::node: one node of a cluster of WebSocket servers that share their user →
// sessions tables through Redis. Made on the application's own loop by a transport's adapter
// (wsx/cluster/asio.hpp, wsx/cluster/libevent.hpp); this is what both give the application.
//
// Guarantees (docs/cluster.md): delivery is at most once. While Redis is up, a message reaches
// every device of its user (or every member of its room, or every session) on every node
// exactly once. While Redis is away, local delivery goes on and the remote part of each send
// fails at once with errc::redis_unavailable (counted); nothing is queued for later. After a
// reconnect every subscription is restored and this node's presence written again.
//
// Every member may be called from any thread unless it says otherwise.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wsx/cluster/errors.hpp"
#include "wsx/cluster/options.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/types.hpp"

namespace wsx::cluster {

namespace detail {
class node_core;
}

// What a send did: how many local sessions took the message, and what became of the copy for
// the other nodes (empty: published; errc::redis_unavailable, backlog_full, message_too_large,
// stopped: not sent to them — the local part happened anyway).
struct delivery {
  std::size_t local = 0;
  std::error_code remote;
};

class node {
 public:
  virtual ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  // Every local device of `user` but `except` (one encoding for all), then one PUBLISH for the
  // other nodes, whose devices of `user` get it too. Text must be valid UTF-8 (the caller's
  // duty). An empty or over-long user id: remote = errc::bad_name and nothing is sent.
  delivery send_to_user(std::string_view user, message_kind kind, bytes_view payload,
                        const session* except = nullptr);
  // Every session of every node (`except`: a local session to skip, e.g. the sender).
  delivery broadcast(message_kind kind, bytes_view payload, const session* except = nullptr);
  // Every device of every member of `room`, on every node.
  delivery send_to_room(std::string_view room, message_kind kind, bytes_view payload);

  // Room membership of a user on this node (all its local devices). Returns errc::bad_name for
  // an empty or over-long id, else empty (joining twice or leaving a room one is not in is
  // harmless). A user leaves every room of this node when its last local session ends.
  std::error_code join(std::string_view room, std::string_view user);
  std::error_code leave(std::string_view room, std::string_view user);

  // Who is online on any node (sorted), as this node last learnt it: its own users at once,
  // the others' within a poll (a third of the node timeout, sooner when they announce it).
  std::vector<std::string> online_users() const;
  bool is_online(std::string_view user) const;

  bool redis_up() const noexcept;
  stats snapshot() const;
  const std::string& name() const noexcept;

 protected:
  explicit node(std::shared_ptr<detail::node_core> core);
  std::shared_ptr<detail::node_core> core_;
};

// Checks `o` (node name 1-255 bytes, timeouts > 0, limits > 0). errc::bad_options or empty.
std::error_code validate(const options& o);

}  // namespace wsx::cluster
