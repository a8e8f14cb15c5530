// The error category of wsx::cluster: each errc's message says what happened in words an
// operator can act on (they end up in logs and in the chat's error replies). Messages are fixed
// strings; the category is a function-local static, so it is safe to use from any thread.
#include "wsx/cluster/errors.hpp"

#include <string>

namespace wsx::cluster {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wsx.cluster"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::redis_unavailable:
        return "Redis is unreachable: the message did not reach other nodes";
      case errc::backlog_full:
        return "too many bytes are waiting for Redis: the message was dropped";
      case errc::message_too_large:
        return "the message is larger than the cluster's max_reply_bytes allows";
      case errc::bad_name:
        return "a user or room id must be 1-256 bytes";
      case errc::stopped:
        return "the cluster is stopped";
      case errc::connection_failed:
        return "could not connect to Redis";
      case errc::connection_lost:
        return "the connection to Redis was closed or reset";
      case errc::probe_timeout:
        return "Redis did not answer within the probe interval";
      case errc::reply_too_large:
        return "a Redis reply exceeded max_reply_bytes";
      case errc::protocol_error:
        return "Redis sent bytes that are not RESP";
      case errc::bad_url:
        return "not a redis://HOST:PORT URL";
      case errc::bad_options:
        return "bad cluster options";
    }
    return "unknown wsx.cluster error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace wsx::cluster
