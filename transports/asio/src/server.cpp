// The server: an acceptor on its own strand, a registry of live connections, and shutdown.
//
// Each accepted socket gets a fresh strand (so connections never serialise each other) — or,
// with server_options::single_threaded, the io_context's own executor — a tcp_connection or
// tls_connection, and an entry in the registry (a vector of connections, each knowing its slot,
// so delisting is a swap with the last). The entry goes when the connection's socket closes
// (connection_owner::connection_finished, or the connection's destructor if its loop was torn
// down first). stop() walks the registry: every connection is told to shut down (1001 / 503 /
// drop) on its own strand, and whatever is still registered when the grace period ends is
// dropped. When the registry is empty after a stop, the on_stopped callbacks run on the
// server's strand.
//
// Accept errors caused by resource exhaustion (EMFILE, ENFILE, ENOBUFS, ENOMEM) pause accepting
// for a moment instead of spinning; the kernel keeps the pending connections in the backlog.
#include "wsx/asio/server.hpp"

#include <mutex>
#include <utility>
#include <vector>

#include <asio/basic_socket_acceptor.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include "tcp_connection.hpp"
#include "tls_connection.hpp"

namespace wsx::asio::detail {

class server_state final : public connection_owner,
                           public std::enable_shared_from_this<server_state> {
 public:
  server_state(::asio::io_context& io, server_options opts)
      : io_(io),
        strand_(::asio::make_strand(io)),
        acceptor_(strand_),
        retry_timer_(strand_),
        grace_timer_(strand_),
        host_(std::move(opts.host)),
        port_(opts.port),
        backlog_(opts.backlog),
        single_threaded_(opts.single_threaded),
        tls_(std::move(opts.tls)),
        ctx_(std::make_shared<connection_context>()) {
    ctx_->linger = opts.linger;
    ctx_->side = role::server;
    ctx_->cfg = opts.config;
    if (opts.on_http) ctx_->cfg.plain_http = true;
    ctx_->handlers = std::move(opts.handlers);
    ctx_->on_upgrade = std::move(opts.on_upgrade);
    ctx_->on_http = std::move(opts.on_http);
    ctx_->backpressure = opts.backpressure;
    ctx_->table = opts.table ? std::move(opts.table) : std::make_shared<connection_table>();
    ctx_->counters = opts.counters ? std::move(opts.counters) : std::make_shared<stats>();
  }

  std::error_code start() {
    std::lock_guard lock(mutex_);
    if (started_) return errc::invalid_state;
    std::error_code ec;
    tcp::resolver resolver(io_);
    const auto found = resolver.resolve(
        host_, std::to_string(port_), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) return ec;
    if (found.empty()) return ::asio::error::host_not_found;
    const tcp::endpoint ep = found.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(backlog_, ec);
    if (!ec) local_ = acceptor_.local_endpoint(ec);
    if (ec) {
      std::error_code ignored;
      acceptor_.close(ignored);
      return ec;
    }
    started_ = true;
    ctx_->owner = weak_from_this();  // before the first connection: accepting starts below
    ::asio::post(strand_, [self = shared_from_this()] { self->accept_next(); });
    return {};
  }

  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) {
    ::asio::post(strand_, [self = shared_from_this(), grace, cb = std::move(on_stopped)]() mutable {
      self->begin_stop(grace, std::move(cb));
    });
  }

  void connection_finished(connection_entry& c) noexcept override {
    bool last = false;
    {
      std::lock_guard lock(mutex_);
      // Swap with the last entry and drop that slot.
      connection_entry* const moved = live_.back();
      live_[c.registry_slot] = moved;
      moved->registry_slot = c.registry_slot;
      live_.pop_back();
      last = stopping_ && live_.empty();
    }
    if (last) {
      // Not from this connection's strand (and perhaps its destructor): on our own.
      ::asio::post(strand_, [self = shared_from_this()] { self->finish_stop(); });
    }
  }

  tcp::endpoint local_endpoint() const {
    std::lock_guard lock(mutex_);
    return local_;
  }
  std::size_t connection_count() const {
    std::lock_guard lock(mutex_);
    return live_.size();
  }
  const std::shared_ptr<connection_context>& context() const noexcept { return ctx_; }

 private:
  void accept_next() {
    if (single_threaded_) {
      accept_with(io_.get_executor());
    } else {
      accept_with(::asio::make_strand(io_));  // a fresh strand for every connection
    }
  }

  template <class Executor>
  void accept_with(const Executor& ex) {
    acceptor_.async_accept(ex, [self = shared_from_this()](const std::error_code& ec,
                                                           typename io_types<Executor>::socket s) {
      self->on_accept(ec, std::move(s));
    });
  }

  template <class Socket>
  void on_accept(const std::error_code& ec, Socket socket) {
    if (ec == ::asio::error::operation_aborted || stopping_now()) return;
    if (ec) {
      if (ec == ::asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system ||
          ec == ::asio::error::no_buffer_space || ec == ::asio::error::no_memory) {
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([self = shared_from_this()](const std::error_code& wec) {
          if (!wec && !self->stopping_now()) self->accept_next();
        });
      } else {
        accept_next();  // the peer gave up before we took it (ECONNABORTED…): next one
      }
      return;
    }
    // The next accept first: it reuses the memory Asio just recycled from this one, which is
    // sized for an accept operation. Started the other way round, the connection's first post
    // takes that block and hands it on to the connection's pending read wait, which then holds
    // twice the memory it needs for as long as the connection lives.
    accept_next();
    std::error_code rec;
    const tcp::endpoint remote = socket.remote_endpoint(rec);
    if (!rec) start_connection(std::move(socket), endpoint_string(remote));
  }

  template <class Socket>
  void start_connection(Socket socket, std::string remote) {
    using executor = typename Socket::executor_type;
    connection_params<executor> p{socket.get_executor(), ctx_, std::move(remote)};
    std::shared_ptr<connection_entry> c;
    {
      std::lock_guard lock(mutex_);
      if (tls_) {
        c = std::make_shared<tls_connection<executor>>(std::move(socket), tls_, p);
      } else {
        c = std::make_shared<tcp_connection<executor>>(std::move(socket), p);
      }
      c->registry_slot = static_cast<std::uint32_t>(live_.size());
      live_.push_back(c.get());
    }
    c->start_server();
  }

  bool stopping_now() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  std::vector<std::shared_ptr<connection_entry>> live_connections() const {
    std::vector<std::shared_ptr<connection_entry>> out;
    std::lock_guard lock(mutex_);
    out.reserve(live_.size());
    // An entry is alive while listed: its destructor delists it under this mutex.
    for (connection_entry* entry : live_) {
      if (auto c = entry->lock_entry()) out.push_back(std::move(c));
    }
    return out;
  }

  void begin_stop(std::chrono::steady_clock::duration grace, std::function<void()> cb) {
    if (cb) on_stopped_.push_back(std::move(cb));
    bool empty = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        if (stopped_) run_stopped_callbacks();
        return;
      }
      stopping_ = true;
      empty = live_.empty();
    }
    std::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    for (const auto& c : live_connections()) c->post_shutdown();
    if (empty) {
      finish_stop();
      return;
    }
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec) return;
      for (const auto& c : self->live_connections()) c->post_abort();
    });
  }

  void finish_stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || !live_.empty()) return;
      stopped_ = true;
    }
    grace_timer_.cancel();
    run_stopped_callbacks();
  }

  void run_stopped_callbacks() {
    std::vector<std::function<void()>> callbacks;
    callbacks.swap(on_stopped_);
    for (auto& cb : callbacks) cb();
  }

  ::asio::io_context& io_;
  strand_type strand_;
  ::asio::basic_socket_acceptor<tcp, strand_type> acceptor_;
  timer_type retry_timer_;
  timer_type grace_timer_;
  std::string host_;
  std::uint16_t port_;
  int backlog_;
  bool single_threaded_;
  std::shared_ptr<::asio::ssl::context> tls_;
  std::shared_ptr<connection_context> ctx_;
  std::vector<std::function<void()>> on_stopped_;  // strand only

  mutable std::mutex mutex_;  // guards what follows
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  tcp::endpoint local_;
  // Every connection whose socket is open, each at its registry_slot.
  std::vector<connection_entry*> live_;
};

}  // namespace wsx::asio::detail

namespace wsx::asio {

server::server(::asio::io_context& io, server_options opts)
    : state_(std::make_shared<detail::server_state>(io, std::move(opts))) {}

server::~server() { state_->stop(std::chrono::steady_clock::duration::zero(), {}); }

std::error_code server::start() { return state_->start(); }

::asio::ip::tcp::endpoint server::local_endpoint() const { return state_->local_endpoint(); }

void server::stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) {
  state_->stop(grace, std::move(on_stopped));
}

connection_table& server::table() const noexcept { return *state_->context()->table; }

stats& server::counters() const noexcept { return *state_->context()->counters; }

std::uint64_t server::messages_dropped() const noexcept {
  return state_->context()->messages_dropped.load(std::memory_order_relaxed);
}

std::size_t server::connection_count() const { return state_->connection_count(); }

}  // namespace wsx::asio
