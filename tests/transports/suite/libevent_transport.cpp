// The suite's fixture on wsx::libevent: a server attached to an application's event_base
// dispatched by a thread of its own (an app_loop: the server is made, started and destroyed on
// that thread, as the attached mode demands, and stop_and_wait() also demands that dispatch
// returns by itself), or on a loop_pool of one or two loops of its own; clients on a pool of one
// loop that the transport keeps. TLS contexts are made from the test's PEM text; the server and
// client take references of their own, so ours are freed at once.
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <optional>

#include "transport_impl.hpp"
#include "wsx/libevent/client.hpp"
#include "wsx/libevent/loop_pool.hpp"
#include "wsx/libevent/server.hpp"

namespace wsx::test {
namespace {

using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

std::unique_ptr<X509, decltype(&X509_free)> read_cert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return {PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free};
}

ctx_ptr server_context(const pem_pair& pem) {
  ctx_ptr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  const auto cert = read_cert(pem.cert);
  if (!cert || !key || SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    ctx.reset();
  }
  return ctx;
}

ctx_ptr trusting_context(const std::string& cert_pem) {
  ctx_ptr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const auto cert = read_cert(cert_pem);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), cert.get());
  return ctx;
}

// Fills the options and calls make(options) while the TLS context (if any) is alive.
template <class Make>
auto with_options(server_setup s, Make make) {
  wsx::libevent::server_options o;
  o.port = s.port;
  o.config = s.config;
  o.on_upgrade = std::move(s.on_upgrade);
  o.on_http = std::move(s.on_http);
  o.handlers = std::move(s.handlers);
  o.observer = std::move(s.observer);
  o.backpressure = s.backpressure;
  o.linger = s.linger;
  ctx_ptr tls(nullptr, SSL_CTX_free);
  if (s.tls) tls = server_context(*s.tls);
  o.tls = tls.get();
  return make(std::move(o));
}

// A server on a base (attached) or on a pool of its own.
class libevent_server final : public test_server {
 public:
  // Attached to `base`: made on the base's thread; destroyed there too, without waiting for a
  // stop (nothing may run the base any more by then).
  libevent_server(event_base* base, server_setup s) : on_app_loop_(true) {
    with_options(std::move(s),
                 [&](wsx::libevent::server_options o) { srv_.emplace(base, std::move(o)); });
    start_error_ = srv_->start();
  }
  libevent_server(unsigned loops, server_setup s) : on_app_loop_(false) {
    pool_.emplace(loops);
    with_options(std::move(s),
                 [&](wsx::libevent::server_options o) { srv_.emplace(*pool_, std::move(o)); });
    start_error_ = srv_->start();
  }
  ~libevent_server() override {
    if (!stopped_ && !on_app_loop_) stop_and_wait(1s);
    srv_.reset();  // before its pool
  }

  std::error_code start_error() const override { return start_error_; }
  std::error_code start_again() override { return srv_->start(); }
  std::uint16_t port() const override { return srv_->local_endpoint().port; }
  connection_table& table() const override { return srv_->table(); }
  stats& counters() const override { return srv_->counters(); }
  std::uint64_t messages_dropped() const override { return srv_->messages_dropped(); }
  std::size_t connection_count() const override { return srv_->connection_count(); }
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) override {
    stopped_ = true;
    srv_->stop(grace, std::move(on_stopped));
  }

 private:
  bool on_app_loop_;
  std::optional<wsx::libevent::loop_pool> pool_;  // before srv_: outlives it
  std::optional<wsx::libevent::server> srv_;
  std::error_code start_error_;
  std::atomic<bool> stopped_{false};
};

class libevent_client final : public test_client {
 public:
  template <class Where>
  libevent_client(Where& where, client_setup c) {
    wsx::libevent::client_options o;
    o.config = c.config;
    o.handlers = std::move(c.handlers);
    o.subprotocols = std::move(c.subprotocols);
    o.ca_file = std::move(c.ca_file);
    ctx_ptr tls(nullptr, SSL_CTX_free);
    if (c.trust) tls = trusting_context(*c.trust);
    o.tls = tls.get();
    cli_.emplace(where, std::move(o));
  }
  session_ptr connect(std::string_view url) override { return cli_->connect(url); }

 private:
  std::optional<wsx::libevent::client> cli_;
};

// An application's event_base dispatched by the loop's thread. The base is made thread-safe
// (evthread_use_pthreads) only so that the test can post onto it, count its events and break a
// loop that does not return; wsx never relies on it.
class libevent_app_loop final : public loop_thread {
 public:
  libevent_app_loop() {
    static const int threads_ready = evthread_use_pthreads();
    (void)threads_ready;
    base_ = event_base_new();
  }
  ~libevent_app_loop() override {
    join();
    event_base_free(base_);
  }

  test_server& add_server(server_setup s) override {
    servers_.push_back(std::make_unique<libevent_server>(base_, std::move(s)));
    return *servers_.back();
  }
  test_client& add_client(client_setup c) override {
    clients_.push_back(std::make_unique<libevent_client>(base_, std::move(c)));
    return *clients_.back();
  }
  void add_app_timer(std::chrono::milliseconds after, std::atomic<bool>& fired) override {
    ::event* timer = evtimer_new(
        base_,
        [](evutil_socket_t, short, void* arg) {
          static_cast<std::atomic<bool>*>(arg)->store(true);
        },
        &fired);
    const timeval tv{static_cast<time_t>(after.count() / 1000),
                     static_cast<suseconds_t>(after.count() % 1000 * 1000)};
    evtimer_add(timer, &tv);
    timers_.push_back(timer);
  }
  std::size_t transport_work() const override {
    return static_cast<std::size_t>(event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED));
  }

 protected:
  void run_loop() override { event_base_dispatch(base_); }
  void break_loop() override { event_base_loopbreak(base_); }
  void post(std::function<void()> f) override {
    auto* heap = new std::function<void()>(std::move(f));
    const timeval now{0, 0};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* arg) {
          std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
          (*fn)();
        },
        heap, &now);
  }
  void teardown() override {
    clients_.clear();
    servers_.clear();
    for (::event* e : timers_) event_free(e);
    timers_.clear();
  }

 private:
  event_base* base_;
  std::vector<std::unique_ptr<test_server>> servers_;
  std::vector<std::unique_ptr<test_client>> clients_;
  std::vector<::event*> timers_;
};

// A server attached to an application's base of its own: the base's thread makes, starts and
// (at the end) destroys it.
class attached_server final : public test_server {
 public:
  explicit attached_server(server_setup s) {
    loop_.start([&](app_loop& l) { inner_ = &l.add_server(std::move(s)); });
  }
  ~attached_server() override {
    if (!stopped_) stop_and_wait(1s);
    loop_.join();
  }

  std::error_code start_error() const override { return inner_->start_error(); }
  std::error_code start_again() override {
    std::error_code ec = std::make_error_code(std::errc::timed_out);
    loop_.call([&] { ec = inner_->start_again(); });
    return ec;
  }
  std::uint16_t port() const override { return inner_->port(); }
  connection_table& table() const override { return inner_->table(); }
  stats& counters() const override { return inner_->counters(); }
  std::uint64_t messages_dropped() const override { return inner_->messages_dropped(); }
  std::size_t connection_count() const override { return inner_->connection_count(); }
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) override {
    stopped_ = true;
    inner_->stop(grace, std::move(on_stopped));
  }
  bool stop_and_wait(std::chrono::steady_clock::duration grace) override {
    stopped_ = true;
    return inner_->stop_and_wait(grace) && loop_.wait_returned(20s);
  }

 private:
  libevent_app_loop loop_;
  test_server* inner_ = nullptr;
  std::atomic<bool> stopped_{false};
};

class libevent_transport final : public transport {
 public:
  explicit libevent_transport(mode m) : mode_(m) {}

  std::unique_ptr<test_server> server(server_setup s) override {
    if (mode_ == mode::libevent_attached) return std::make_unique<attached_server>(std::move(s));
    return std::make_unique<libevent_server>(mode_ == mode::libevent_one_loop ? 1u : 2u,
                                             std::move(s));
  }
  std::unique_ptr<test_client> client(client_setup c) override {
    if (!client_loops_) client_loops_.emplace(1);
    return std::make_unique<libevent_client>(*client_loops_, std::move(c));
  }

 private:
  mode mode_;
  std::optional<wsx::libevent::loop_pool> client_loops_;
};

}  // namespace

std::unique_ptr<transport> make_libevent_transport(mode m) {
  return std::make_unique<libevent_transport>(m);
}

std::unique_ptr<app_loop> make_libevent_app_loop() { return std::make_unique<libevent_app_loop>(); }

}  // namespace wsx::test
