// A cluster node on a libevent event_base: its two Redis connections are plain events on the
// application's base (non-blocking sockets read with recv, written with send), with one timer
// event and one wake-up event (an eventfd) for calls from other threads. No thread of its own.
#pragma once

#include <functional>
#include <memory>
#include <system_error>

#include "wsx/cluster/node.hpp"

struct event_base;

namespace wsx::cluster {

class libevent_node final : public node {
 public:
  // Nothing is added to `base` before start(). `table` is the server's connection table
  // (server_options::table). Make, start and destroy the node on the thread that runs `base`
  // (inside one of its callbacks, or while it is not running); every other member may be
  // called from any thread.
  libevent_node(event_base* base, std::shared_ptr<connection_table> table, options opt);
  // Takes every event of the node off the base and closes its sockets (no clean goodbye: call
  // stop() first for that).
  ~libevent_node() override;

  // Starts connecting to Redis. errc::bad_options for options that validate() refuses;
  // std::errc codes when the wake-up descriptor or an event cannot be made. Sessions already in
  // the table count as present.
  std::error_code start();
  // Clean stop (any thread): this node's presence is deleted from Redis and announced, the
  // connections close once that is written (at most 1 s), then `on_stopped` runs on the base's
  // thread; the node then has no event on the base, so event_base_dispatch() can return. Sends
  // return errc::stopped from now on.
  void stop(std::function<void()> on_stopped = {});

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace wsx::cluster
