// The transport-independent face of one live WebSocket session: what the connection table,
// broadcast and application code use, whatever transport (Asio, libevent) carries it.
//
// Every member is safe to call from any thread. After the session has ended, every command
// returns wsx::errc::closed and does nothing — never a crash, never a write to a closed socket.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "wsx/common/user_data.hpp"
#include "wsx/errors.hpp"
#include "wsx/shared_message.hpp"
#include "wsx/types.hpp"

namespace wsx {

class session {
 public:
  virtual ~session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Queue a whole message. errc::closed after the end; errc::output_limit when the server's
  // backpressure policy dropped it (see the transport's server options).
  virtual std::error_code send(message_kind kind, bytes_view payload) = 0;
  std::error_code send_text(std::string_view text) {
    return send(message_kind::text, as_bytes(text));
  }
  // Queue a message encoded once for many sessions (broadcast): no copy of its bytes.
  virtual std::error_code send_shared(const shared_message& msg) = 0;
  virtual std::error_code ping(bytes_view payload) = 0;
  // Start the closing handshake (code and reason as for wsx::connection::close).
  virtual std::error_code close(close_code code, std::string_view reason) = 0;
  // Bytes queued for the socket (a snapshot; it changes as the writer drains).
  virtual std::size_t buffered_amount() const noexcept = 0;
  // "ip:port" of the peer, as seen at accept/connect time.
  virtual std::string remote_endpoint() const = 0;

  // The user this session was accepted for (empty when the upgrade hook named none), and a
  // process-unique id. Both are fixed for the session's life.
  const std::string& user_id() const noexcept { return user_id_; }
  std::uint64_t id() const noexcept { return id_; }
  // False once the session has ended (its close handler has run or is running).
  bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }

  // The user data the upgrade hook attached (upgrade_decision::set_user_data<T>) if it is a T
  // — exactly that type — else nullptr (none attached, another type, a client session). Fixed
  // before the handle is handed out, so any thread may call this; the T itself is the
  // application's to synchronise if several threads use it (handlers of one session never run
  // at once). It lives as long as the session handle: it is destroyed when the connection has
  // ended and the last session_ptr to it is gone (the transport and the table drop theirs on
  // every close path).
  template <class T>
  T* user_data() const noexcept {
    return attached_ ? attached_->data.get<T>() : nullptr;
  }
  // What the upgrade hook kept of the request (upgrade_context::keep_request): path, query and
  // the headers it named. Null when the hook kept nothing. Same lifetime as user_data().
  const kept_request* request() const noexcept {
    return attached_ && attached_->kept ? &*attached_->kept : nullptr;
  }

 protected:
  explicit session(std::string user_id)
      : user_id_(std::move(user_id)), id_(next_id_.fetch_add(1, std::memory_order_relaxed) + 1) {}
  void mark_ended() noexcept { open_.store(false, std::memory_order_release); }
  // Only before the handle is handed to anyone (the transport made it ahead of the upgrade).
  void set_user_id(std::string user_id) { user_id_ = std::move(user_id); }
  void set_user_data(user_data_holder data) {
    if (data.has_value()) attachments().data = std::move(data);
  }

 private:
  friend class upgrade_context;  // keep_request(), during the hook
  void set_request(kept_request r) { attachments().kept = std::move(r); }
  // What the hook attached, in one block made only when something is: a session without user
  // data or a kept request carries one null pointer.
  struct attached {
    user_data_holder data;
    std::optional<kept_request> kept;
  };
  attached& attachments() {
    if (!attached_) attached_ = std::make_unique<attached>();
    return *attached_;
  }

  std::string user_id_;
  std::unique_ptr<attached> attached_;
  std::uint64_t id_;
  std::atomic<bool> open_{true};
  static inline std::atomic<std::uint64_t> next_id_{0};
};

using session_ptr = std::shared_ptr<session>;

// Session handles alive in the process, made by any transport, servers' and clients' together
// (a leak check: 0 once every connection has ended and the application dropped its handles).
std::size_t live_session_count() noexcept;

}  // namespace wsx
