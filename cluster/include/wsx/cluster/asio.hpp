// A cluster node on an Asio io_context: its two Redis connections are Asio sockets of the
// application's io_context and its one timer an Asio timer there; all of its work runs on a
// strand of that io_context, so it may be run by any number of threads. No thread of its own.
#pragma once

#include <functional>
#include <memory>
#include <system_error>

#include <asio/io_context.hpp>

#include "wsx/cluster/node.hpp"

namespace wsx::cluster {

class asio_node final : public node {
 public:
  // `table` is the server's connection table (server_options::table: make it a shared_ptr and
  // give the same one to the server and here). Nothing happens before start().
  asio_node(::asio::io_context& io, std::shared_ptr<connection_table> table, options opt);
  // Drops the Redis connections without the clean goodbye (call stop() first for that). Destroy
  // it once the io_context has stopped running it, or after on_stopped.
  ~asio_node() override;

  // Starts connecting to Redis (any thread). errc::bad_options for options that validate()
  // refuses; then nothing starts. Sessions already in the table count as present.
  std::error_code start();
  // Clean stop (any thread): this node's presence is deleted from Redis and announced, the
  // connections close once that is written (at most 1 s), then `on_stopped` runs on the
  // io_context. Afterwards the node holds no work in the io_context, so run() can return. Sends
  // return errc::stopped from now on.
  void stop(std::function<void()> on_stopped = {});

 private:
  class impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace wsx::cluster
