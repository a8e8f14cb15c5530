// wsx::cluster's errors: one enum for what a cluster call or its Redis connections can report,
// with a category that names each one. Every value says what happened; the comment says what
// the caller does next.
#pragma once

#include <system_error>

namespace wsx::cluster {

enum class errc {
  // sends and publishes
  redis_unavailable = 1,  // Redis is not connected: nothing went to other nodes (local
                          // delivery still happened). Retry later or tell the sender.
  backlog_full,           // too many bytes wait for Redis (options::max_backlog_bytes): the
                          // message was dropped. Slow down.
  message_too_large,      // the message would exceed options::max_reply_bytes at the
                          // receiving nodes: it was not sent. Send less.
  bad_name,               // an empty user or room id, or one longer than 256 bytes
  stopped,                // the cluster was stopped: nothing is sent any more
  // the Redis connections (reported by counters and on_redis_state; they reconnect by themselves)
  connection_failed,  // the TCP connection to Redis could not be made
  connection_lost,    // Redis closed the connection, or it was reset
  probe_timeout,      // Redis answered nothing within the probe interval (a black hole)
  reply_too_large,    // a reply grew past options::max_reply_bytes: the connection was dropped
  protocol_error,     // Redis sent bytes that are not RESP2
  // configuration
  bad_url,      // not a redis://HOST:PORT URL with an IP address or localhost
  bad_options,  // node name empty or too long, or a timeout of 0
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace wsx::cluster

template <>
struct std::is_error_code_enum<wsx::cluster::errc> : std::true_type {};
