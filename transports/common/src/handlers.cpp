// The application's side of the seam that has code: the upgrade decision's constructors,
// pending_upgrade, which hands a deferred answer to the connection's pump (any thread), and
// keep_request, which copies the part of the request the hook names into the session handle
// before the handle is handed out (the request itself dies with the hook call).
#include "wsx/common/handlers.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "pump.hpp"

namespace wsx {
namespace {

// RFC 9110 §5.1: field names are case-insensitive.
bool iequals(std::string_view a, std::string_view b) noexcept {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<std::string_view> kept_request::header(std::string_view name) const noexcept {
  for (const header_field& h : headers) {
    if (iequals(h.name, name)) return std::string_view{h.value};
  }
  return std::nullopt;
}

template <class Names>
void upgrade_context::keep(const Names& names) const {
  kept_request kept;
  kept.path = request_.path;
  kept.query = request_.query;
  for (const header_field& h : request_.headers) {
    const bool wanted = std::any_of(names.begin(), names.end(),
                                    [&](std::string_view n) { return iequals(h.name, n); });
    if (wanted) kept.headers.push_back(h);
  }
  handle_.set_request(std::move(kept));
}

void upgrade_context::keep_request(std::initializer_list<std::string_view> header_names) const {
  keep(header_names);
}

void upgrade_context::keep_request(const std::vector<std::string>& header_names) const {
  keep(header_names);
}

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
