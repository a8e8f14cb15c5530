// The pump: the transport-independent half of a session. It drives one wsx::connection for a
// transport that brings only a socket, one timer and a wake-up. Internal to wsx (see
// transport_io.hpp for the seam as a whole); transports reach it through
// `wsx_common_transport_dep`.
//
// Theory of operation: a transport (Asio, libevent) owns one `pump` per TCP connection and
// implements `transport_io` for it. The transport reports what happened (bytes read, EOF, the
// timer fired, a write finished, a wake-up arrived) and the pump does the rest on the
// connection's loop: it feeds the core, dispatches every core event to the application's
// handlers, answers the upgrade (through the hook, possibly deferred), enforces the backpressure
// policy, fires the drain handler, keeps the stats and the connection table, and then tells the
// transport what to do next through `transport_io`: write these ranges, arm the timer at T,
// resume reading, close the socket. Calls from other threads (a session handle's send, a
// deferred upgrade's answer) are queued in the pump's mailbox and applied on the loop after a
// single wake-up, so per-thread order is kept and the transport needs no locks of its own.
//
// The end of a session is one code path whatever ended it (close frame, protocol error, any
// deadline, TCP reset, shutdown, the transport being torn down): the table entry is erased, the
// stats are counted and the close handler runs, exactly once. If the pump is destroyed before
// that happened (its event loop was destroyed under it), its destructor erases the table entry
// and counts the close, but calls no handler: the application may be gone by then.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "pump_context.hpp"
#include "pump_session.hpp"
#include "pump_state.hpp"
#include "transport_io.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/observer.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/config.hpp"
#include "wsx/connection.hpp"
#include "wsx/events.hpp"
#include "wsx/shared_message.hpp"
#include "wsx/types.hpp"

namespace wsx {

class pump {
 public:
  // The handshake deadline starts at `now`. `remote_endpoint` is "ip:port" of the peer.
  pump(std::shared_ptr<pump_context> ctx, transport_io& io, std::string remote_endpoint,
       time_point now);
  // The same with the handle a member of the transport's object (made before the pump, destroyed
  // after it): one block per connection, not two. Handles share the ownership of that object, and
  // so does the pump from start() until release_handle(): the object owns itself meanwhile.
  pump(std::shared_ptr<pump_context> ctx, transport_io& io, pump_session& handle, time_point now);
  ~pump();
  pump(const pump&) = delete;
  pump& operator=(const pump&) = delete;

  // Call once, right after construction and before the transport's first completion can run
  // (it need not be on the loop yet). `self` points at this pump and owns the transport (an
  // aliasing shared_ptr): session handles and pending upgrades keep a weak reference to it.
  // Arms the timer; a client's session handle exists from here on.
  void start(const std::shared_ptr<pump>& self);
  // The session handle: a client's from start(), a server's once the upgrade is accepted;
  // null before.
  const std::shared_ptr<session>& handle() const noexcept;
  // The context given to the constructor (the transport may have derived from it).
  const pump_context& context() const noexcept { return *ctx_; }
  // With the transport's handle, once its socket is closed (or will never open): the pump's own
  // reference to the transport's object, handed over (null the second time, or with a handle of
  // the pump's). A session not ended yet ends as in the destructor (table, stats, no handler).
  std::shared_ptr<session> release_handle() noexcept;
  // With the transport's handle, from start() until release_handle(): that reference.
  const std::shared_ptr<session>& kept_handle() const noexcept { return handle_; }

  // ---- transport → pump, on the loop ----------------------------------------------------------
  // Client: TCP (and TLS) are up. Queues the upgrade request built from `opts` and starts.
  void on_connected(const client_options& opts, time_point now);
  // The connection could not be set up (client: resolve, connect, TLS handshake; server: the
  // TLS handshake or the socket's options). A client reports on_connect_error and on_close, a
  // server the observer's handshake failure (source transport); then close_now().
  void on_connect_failed(std::error_code ec, std::string reason, time_point now);
  // Bytes read from the socket (any size). They are decoded where they are (payloads unmasked
  // in place, so `in` changes); the buffer may be reused once this returns, as the pump hands
  // the core's events out and copies what is left over before returning.
  void on_input(std::span<std::byte> in, time_point now);
  // The peer closed TCP, or a read failed (reset).
  void on_eof(time_point now);
  // The timer armed with set_timer() fired (early or late is harmless).
  void on_timer(time_point now);
  // The write reported `in_flight` finished having sent `n` bytes, or failed with `ec`.
  void on_write_complete(std::size_t n, std::error_code ec, time_point now);
  // The wake-up requested with transport_io::wake() arrived.
  void on_wake(time_point now);
  // Server shutdown: an open session gets close 1001; a deferred upgrade is refused with 503; a
  // handshake still being read is dropped.
  void shutdown(time_point now);
  // Drop the connection now (the server is stopping or being destroyed): the session ends
  // (1006), a handshake under way is reported to the observer as dropped by shutdown, and the
  // socket closes.
  void abort(time_point now);

  // The read loop asks before each read. False: stop reading. When false because of
  // backpressure (the peer is not taking our output), the pump calls resume_reading() later.
  bool should_read();
  // The read loop found no more input for now. At the first such pause after the upgrade, and
  // later once the connection has stayed quiet for quiet_before_shrink, the pump frees the
  // core's idle buffers (connection::shrink_to_fit), so an idle connection holds little memory
  // while a busy one keeps reusing its buffers.
  void on_read_idle(time_point now);
  static constexpr std::chrono::seconds quiet_before_shrink{1};
  // True once the upgrade is done and its buffers were freed (the first on_read_idle() after
  // it): input from here on is messages.
  bool past_handshake() const noexcept { return paused_since_open_; }
  // True once close_gracefully() or close_now() was called: nothing more to do for the pump.
  bool finished() const noexcept { return phase_ == phase::transport_closing; }

  // ---- commands, from any thread (session handles, pending upgrades) --------------------------
  // On the loop they run at once and return the core's answer; from another thread the payload
  // is copied, queued, and applied on the loop in order (errors found there are counted, not
  // returned). errc::closed after the session ended; errc::invalid_state before it opened or
  // once it is closing; errc::output_limit when the backpressure policy refused the message.
  std::error_code send(message_kind kind, bytes_view payload);
  std::error_code send_shared(const shared_message& msg);
  std::error_code ping(bytes_view payload);
  std::error_code close(close_code code, std::string_view reason);
  std::error_code complete_upgrade(upgrade_decision d);
  // Bytes queued for the socket, including commands not yet applied on the loop.
  std::size_t buffered_amount() const noexcept;

 private:
  // A call from another thread, queued in the mailbox (both in pump_mailbox.hpp).
  struct command;
  struct mailbox;

  // Loop-side work.
  void settle(time_point now);
  void dispatch(event& ev, time_point now);
  void on_upgrade_request(upgrade_request& req, time_point now);
  void on_http_request(const http_request& req, time_point now);
  void apply_decision(upgrade_decision& d, time_point now);
  void on_rejected(const rejected& ev, time_point now);
  void on_opened(const opened& ev, time_point now);
  void finalize(close_code code, std::string_view reason, std::error_code ec, time_point now);
  // The end when the loop is gone (destructor, release_handle()): table and stats, no handler.
  void end_without_handlers() noexcept;
  // Server: tells the observer about a handshake that did not become a session.
  void report_failure(handshake_failure_source source, int status, std::string_view reason,
                      std::error_code ec, time_point now);
  // Writes what the core has queued. True when the socket failed (the core got receive_eof).
  bool flush(time_point now);
  void update_timer();
  void shrink_if_quiet(time_point now);
  // Frees the core's idle buffers and the mailbox's, unless output is still going out (false).
  bool shrink_now();
  void begin_close();
  // Publishes the core's buffered amount for other threads; `left_mailbox` bytes of reserved
  // mailbox payload just moved into the core.
  void note_buffered(std::size_t left_mailbox = 0) noexcept;
  void consumed(std::size_t n, time_point now);
  void apply_mail(time_point now);
  void apply(command& cmd, time_point now);
  std::error_code send_now(message_kind kind, bytes_view payload, time_point now);
  std::error_code send_shared_now(const shared_message& msg, time_point now);
  std::error_code refused(std::error_code ec, time_point now);
  // Reading pauses while this much output is buffered (a quarter of max_buffered_output).
  std::size_t read_pause_bytes() const noexcept;
  // The backpressure policy refused a message: count it (context and stats).
  void count_dropped() noexcept;
  // Messages in and out go to the shared stats once per settle, not one atomic add each: inside
  // a settle they are counted in unpublished_*, which the outermost settle publishes on exit.
  void count_message_out() noexcept;
  void publish_counts() noexcept;
  class settle_scope;  // raises settling_; the outermost one calls publish_counts() on exit
  std::error_code post(command cmd, std::size_t bytes);
  std::size_t queued_size(std::size_t payload) const noexcept;
  std::error_code admit(std::size_t bytes);
  // After a command ran on the loop outside settle(): drain events, write, re-arm.
  void after_command(time_point now);
  // The time for a command on the loop: a handler's send inside settle() reuses the `now` of the
  // innermost settle on this thread (one clock read per batch of events, not one per message).
  time_point loop_now() const noexcept { return settling_ ? settle_now_ : clock::now(); }
  static thread_local time_point settle_now_;  // set by settle_scope
  // On this pump's loop thread: inside one of its settles (no virtual call) or as io_ says.
  bool on_loop() const noexcept { return settling_here_ == this || io_.on_loop_thread(); }

  // The pump whose settle is running on this thread (the innermost, when a handler of one
  // connection sends into another), or null. A handle of that pump's own session reaches it
  // through this pointer, without locking its weak reference: it is alive while its settle runs.
  friend class pump_session;  // pump_for_call()
  static thread_local pump* settling_here_;

  // Kept alive by conn_, whose shared config is part of the context (one reference, not two).
  pump_context* ctx_;
  transport_io& io_;
  connection conn_;
  // Made with the pump or the transport's (storage_): it holds the peer's address and the pump's
  // weak reference to itself; handed out (exposed_) from start() on a client, from the accepted
  // upgrade on a server. The transport's is held without ownership before start().
  std::shared_ptr<session> handle_;  // a pump_session (a session_ptr, for the handlers)
  pump_session& own_handle() const noexcept;
  maybe_time armed_;                   // what set_timer() was last told
  maybe_time shrink_at_;               // when to check for a quiet connection
  time_point last_activity_{};         // the last input or written output
  time_point started_at_;              // accepted (server) or the upgrade opened (the observer)
  std::uint32_t unpublished_in_ = 0;   // messages received during the settle running
  std::uint32_t unpublished_out_ = 0;  // messages queued during the settle running

  // The pump's state, named in pump_state.hpp (transitions: top of pump.cpp).
  using phase = pump_phase;
  using write_state = pump_write_state;
  using end_kind = pump_end_kind;
  using handle_storage = pump_handle_storage;
  bool finalized() const noexcept { return phase_ >= phase::ended; }
  phase phase_;
  write_state write_;
  // Who is refusing the upgrade being answered (the hook; shutdown()), for the observer.
  handshake_failure_source refusing_ = handshake_failure_source::application;
  end_kind end_ = end_kind::not_yet;  // for the way the socket closes (begin_close())
  handle_storage storage_;            // where handle_ lives
  bool exposed_ = false;  // handle_ may be handed out: a client's, or a server's accepted one
  bool settling_ = false;
  bool read_paused_ = false;        // should_read() said no for backpressure: resume later
  bool congested_ = false;          // buffered output rose above the low-water mark (drain pending)
  bool shrunk_ = false;             // idle buffers freed, and no input since
  bool paused_since_open_ = false;  // on_read_idle() came after the upgrade
  // Flags shared with other threads, next to the loop's own so that all of them fill one word.
  std::atomic<bool> has_mail_{false};  // the mailbox is not empty (a lock-free hint)
  std::atomic<bool> ended_{false};     // the session's end was processed (any thread)
  std::atomic<bool> sendable_{false};  // open as of the last settle: sends may be queued

  // Mailbox: commands from other threads, applied on the loop. Made by the first such command
  // (a connection that only ever answers from its own handlers never has one: 8 bytes instead
  // of a mutex and a vector) and kept until the pump goes.
  mailbox& mail_box();                      // made here if it does not exist yet; any thread
  void shrink_mailbox() noexcept;           // frees an empty mailbox's storage (shrink_now)
  std::atomic<mailbox*> mailbox_{nullptr};  // deleted by ~pump
  // The core's buffered amount as of the last settle plus the payload bytes reserved for
  // commands in the mailbox: buffered_amount() for every thread, and what admit() checks.
  std::atomic<std::size_t> queued_{0};
  std::size_t core_published_ = 0;  // the core's part of queued_ (loop only)
};

}  // namespace wsx
