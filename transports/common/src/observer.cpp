// The observer's names: handshake_failure_source as the one word a log line or a metric label
// carries. The observer itself is called by the pump (pump.cpp: finalize() and
// report_failure(); pump_events.cpp: on_rejected()), which decides the source from the core's
// `rejected` event (its errc) or from how the connection ended before anyone answered it.
#include "wsx/common/observer.hpp"

namespace wsx {

std::string_view to_string(handshake_failure_source s) noexcept {
  switch (s) {
    case handshake_failure_source::request:
      return "request";
    case handshake_failure_source::limit:
      return "limit";
    case handshake_failure_source::application:
      return "application";
    case handshake_failure_source::timeout:
      return "timeout";
    case handshake_failure_source::peer:
      return "peer";
    case handshake_failure_source::transport:
      return "transport";
    case handshake_failure_source::shutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace wsx
