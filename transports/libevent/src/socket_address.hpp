// Socket addresses as the libevent transport reports them, and getaddrinfo()'s errors as
// std::error_code. Internal to transports/libevent.
#pragma once

#include <sys/socket.h>

#include <system_error>

#include "wsx/libevent/session.hpp"

namespace wsx::libevent::detail {

// The address and port of an AF_INET or AF_INET6 socket address (empty address otherwise).
endpoint endpoint_of(const sockaddr_storage& addr);

// getaddrinfo()'s EAI_* codes; message() is gai_strerror()'s text.
const std::error_category& resolver_category();

}  // namespace wsx::libevent::detail
