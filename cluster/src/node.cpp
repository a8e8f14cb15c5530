// The public face of a node: argument checks and the split of every send into its local part
// (done here, on the caller's thread) and its remote part (queued for the loop). Also the
// redis:// URL reader and the options check, which every adapter runs before it starts.
#include "wsx/cluster/node.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "node_core.hpp"

namespace wsx::cluster {

node::node(std::shared_ptr<detail::node_core> core) : core_(std::move(core)) {}
node::~node() = default;

delivery node::send_to_user(std::string_view user, message_kind kind, bytes_view payload,
                            const session* except) {
  delivery d;
  if (!detail::valid_name(user)) {
    d.remote = errc::bad_name;
    return d;
  }
  d.local = core_->deliver_local(detail::target::user, user, kind, payload, except);
  d.remote = core_->publish(detail::target::user, user, kind, payload);
  return d;
}

delivery node::broadcast(message_kind kind, bytes_view payload, const session* except) {
  delivery d;
  d.local = core_->deliver_local(detail::target::all, {}, kind, payload, except);
  d.remote = core_->publish(detail::target::all, {}, kind, payload);
  return d;
}

delivery node::send_to_room(std::string_view room, message_kind kind, bytes_view payload) {
  delivery d;
  if (!detail::valid_name(room)) {
    d.remote = errc::bad_name;
    return d;
  }
  d.local = core_->deliver_local(detail::target::room, room, kind, payload, nullptr);
  d.remote = core_->publish(detail::target::room, room, kind, payload);
  return d;
}

std::error_code node::join(std::string_view room, std::string_view user) {
  return core_->join(room, user);
}

std::error_code node::leave(std::string_view room, std::string_view user) {
  return core_->leave(room, user);
}

std::vector<std::string> node::online_users() const { return core_->online_users(); }
bool node::is_online(std::string_view user) const { return core_->is_online(user); }
bool node::redis_up() const noexcept { return core_->redis_up(); }
stats node::snapshot() const { return core_->snapshot(); }
const std::string& node::name() const noexcept { return core_->name(); }

std::error_code validate(const options& o) {
  using std::chrono::milliseconds;
  if (o.node.empty() || o.node.size() > 255) return errc::bad_options;
  if (o.node_timeout < milliseconds(3) || o.probe_interval < milliseconds(2)) {
    return errc::bad_options;
  }
  if (o.backoff_initial <= milliseconds(0) || o.backoff_max < o.backoff_initial) {
    return errc::bad_options;
  }
  if (o.max_reply_bytes < 1024 || o.max_backlog_bytes == 0 || o.redis_host.empty()) {
    return errc::bad_options;
  }
  return {};
}

std::error_code parse_redis_url(std::string_view url, options& out) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) return errc::bad_url;
  std::string_view rest = url.substr(scheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/@?#") != std::string_view::npos) return errc::bad_url;
  std::string host;
  std::string_view port_text;
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return errc::bad_url;
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return errc::bad_url;
      port_text = rest.substr(1);
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return errc::bad_url;
  } else {
    const std::size_t colon = rest.find(':');
    host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    if (host == "localhost") host = "127.0.0.1";
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1) return errc::bad_url;
  }
  unsigned port = 6379;
  if (!port_text.empty() || rest.ends_with(':')) {
    const char* end = port_text.data() + port_text.size();
    auto [p, e] = std::from_chars(port_text.data(), end, port);
    if (e != std::errc{} || p != end || port == 0 || port > 65535) return errc::bad_url;
  }
  out.redis_host = std::move(host);
  out.redis_port = static_cast<std::uint16_t>(port);
  return {};
}

}  // namespace wsx::cluster
