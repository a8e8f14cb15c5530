// Socket addresses to wsx::libevent::endpoint (inet_ntop and the port in host order), and the
// error category of getaddrinfo()'s EAI_* codes, which are not errno values.
#include "socket_address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <string>

namespace wsx::libevent::detail {
namespace {

class resolver_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "wsx.libevent.resolver"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

endpoint endpoint_of(const sockaddr_storage& addr) {
  endpoint ep;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    ep.port = ntohs(in.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    ep.port = ntohs(in6.sin6_port);
  }
  ep.address = text;
  return ep;
}

const std::error_category& resolver_category() {
  static const resolver_category_impl instance;
  return instance;
}

}  // namespace wsx::libevent::detail
