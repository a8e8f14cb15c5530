// The application's side of the seam that has code: the upgrade decision's constructors, and
// pending_upgrade, which hands a deferred answer to the connection's pump (any thread).
#include "wsx/common/handlers.hpp"

#include <utility>

#include "pump.hpp"

namespace wsx {

upgrade_decision upgrade_decision::accept(std::string user_id, std::string subprotocol,
                                          std::vector<header_field> headers) {
  upgrade_decision d;
  d.what = verdict::accept;
  d.user_id = std::move(user_id);
  d.subprotocol = std::move(subprotocol);
  d.headers = std::move(headers);
  return d;
}

upgrade_decision upgrade_decision::reject(int status, std::string reason,
                                          std::vector<header_field> headers) {
  upgrade_decision d;
  d.what = verdict::reject;
  d.status = status;
  d.reason = std::move(reason);
  d.headers = std::move(headers);
  return d;
}

upgrade_decision upgrade_decision::defer() {
  upgrade_decision d;
  d.what = verdict::defer;
  return d;
}

std::error_code pending_upgrade::complete(upgrade_decision d) const {
  if (d.what == upgrade_decision::verdict::defer) return errc::invalid_argument;
  const std::shared_ptr<pump> p = pump_.lock();
  if (!p) return errc::closed;
  return p->complete_upgrade(std::move(d));
}

}  // namespace wsx
