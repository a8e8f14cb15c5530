// The options of a cluster node, the redis:// URL reader, and the node's counters.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace wsx::cluster {

struct options {
  // Where Redis listens: an IPv4 or IPv6 address, or "localhost" (127.0.0.1). Host names are not
  // looked up (the node never blocks its loop on DNS). parse_redis_url() fills both.
  std::string redis_host = "127.0.0.1";
  std::uint16_t redis_port = 6379;
  // This node's name: 1-255 bytes, unique among the nodes sharing the Redis and the prefix.
  std::string node;
  // A node that stops refreshing its presence (killed, frozen, cut off) has its users removed
  // from every other node's presence within this time. Its keys live 2/3 of it, refreshed
  // every 1/3.
  std::chrono::milliseconds node_timeout{10000};
  // A Redis connection silent for half of this gets a PING; silent for the other half too, it is
  // dropped and made again (a black hole is found within one probe interval).
  std::chrono::milliseconds probe_interval{2000};
  // Reconnect waits: doubling from the first to the second, each drawn in [d/2, d].
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // Every Redis key and channel name starts with this: several clusters may share one Redis.
  std::string prefix = "wsx:";
  // A reply from Redis larger than this drops the connection (errc::reply_too_large); a message
  // whose published form would be larger is refused (errc::message_too_large).
  std::size_t max_reply_bytes = 1 << 20;
  // Bytes that may wait for the Redis socket (per connection) and in the node's mailbox: past
  // it, sends fail with errc::backlog_full instead of growing memory.
  std::size_t max_backlog_bytes = 8 << 20;
  // Called on the node's loop when the set of online users (online_users()) changed. Quick,
  // no throwing; may call any member of the node.
  std::function<void()> on_presence;
  // Called on the node's loop when Redis became reachable (ec empty) or unreachable (ec says
  // why: connection_failed, connection_lost, probe_timeout, reply_too_large, protocol_error).
  std::function<void(bool up, std::error_code ec)> on_redis_state;
};

// Reads "redis://HOST[:PORT][/]" into options::redis_host/redis_port (port 6379 when absent).
// HOST: an IPv4 address, an IPv6 address in brackets, or localhost. Returns errc::bad_url and
// leaves `out` unchanged for anything else (another scheme, a user or password, a database
// number, a host name, a bad port).
std::error_code parse_redis_url(std::string_view url, options& out);

// A node's counters (stats()): a snapshot; each value only grows, except the gauges.
struct stats {
  bool redis_up = false;                // gauge: both Redis connections open
  std::size_t subscriptions = 0;        // gauge: channels Redis confirmed
  std::size_t remote_nodes = 0;         // gauge: other nodes in the presence mirror
  std::uint64_t published = 0;          // messages published for the other nodes
  std::uint64_t remote_failed = 0;      // sends whose remote part failed (any reason)
  std::uint64_t redis_unavailable = 0;  // … of which because Redis was unreachable
  std::uint64_t backlog_full = 0;       // … of which because too many bytes waited
  std::uint64_t received = 0;           // messages from other nodes
  std::uint64_t delivered = 0;          // local session deliveries of those messages
  std::uint64_t bad_messages = 0;       // pub/sub payloads that were not a node's
  std::uint64_t reconnects = 0;         // Redis connections lost or failed
  std::uint64_t probe_timeouts = 0;     // … of which found dead by the probe
  std::uint64_t replies_too_large = 0;  // … of which for a reply past max_reply_bytes
  std::uint64_t redis_errors = 0;       // error replies from Redis
};

}  // namespace wsx::cluster
