// The suite's fixture on wsx::asio: servers and clients on an io_context run by threads of the
// fixture (mode asio_strands: several, a strand per connection; asio_single_threaded: one, with
// server_options::single_threaded), and an app_loop that is an io_context run once, without a
// work guard, by its thread. TLS contexts are made from the test's PEM text.
// A standard header first: Asio's config reads libstdc++'s macros (_GLIBCXX_HAVE_ALIGNED_ALLOC)
// when first included, and every translation unit must see the same choice (aligned_new and
// aligned_delete of one handler may come from different ones).
#include <memory>

#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include "../asio/asio_test_support.hpp"
#include "deadline_queue.hpp"
#include "transport_impl.hpp"
#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"

namespace wsx::test {
namespace {

std::shared_ptr<::asio::ssl::context> server_context(const pem_pair& pem) {
  auto ctx = std::make_shared<::asio::ssl::context>(::asio::ssl::context::tls_server);
  ctx->use_certificate_chain(::asio::buffer(pem.cert));
  ctx->use_private_key(::asio::buffer(pem.key), ::asio::ssl::context::pem);
  return ctx;
}

std::shared_ptr<::asio::ssl::context> trusting_context(const std::string& cert) {
  auto ctx = std::make_shared<::asio::ssl::context>(::asio::ssl::context::tls_client);
  ctx->set_verify_mode(::asio::ssl::verify_peer);
  ctx->add_certificate_authority(::asio::buffer(cert));
  return ctx;
}

wsx::asio::server_options options_of(server_setup s, bool single_threaded) {
  wsx::asio::server_options o;
  o.port = s.port;
  o.single_threaded = single_threaded;
  o.config = s.config;
  o.on_upgrade = std::move(s.on_upgrade);
  o.on_http = std::move(s.on_http);
  o.handlers = std::move(s.handlers);
  o.observer = std::move(s.observer);
  o.backpressure = s.backpressure;
  o.linger = s.linger;
  if (s.tls) o.tls = server_context(*s.tls);
  return o;
}

wsx::asio::client_options options_of(client_setup c) {
  wsx::asio::client_options o;
  o.config = c.config;
  o.handlers = std::move(c.handlers);
  o.subprotocols = std::move(c.subprotocols);
  o.ca_file = std::move(c.ca_file);
  if (c.trust) o.tls = trusting_context(*c.trust);
  return o;
}

class asio_server final : public test_server {
 public:
  // `on_app_loop`: nothing runs the io_context once the loop has returned, so destroying the
  // server must not wait for a stop.
  asio_server(::asio::io_context& io, server_setup s, bool single_threaded, bool on_app_loop)
      : srv_(io, options_of(std::move(s), single_threaded)), on_app_loop_(on_app_loop) {
    start_error_ = srv_.start();
  }
  ~asio_server() override {
    if (!stopped_ && !on_app_loop_) stop_and_wait(1s);
  }

  std::error_code start_error() const override { return start_error_; }
  std::error_code start_again() override { return srv_.start(); }
  std::uint16_t port() const override { return srv_.local_endpoint().port(); }
  connection_table& table() const override { return srv_.table(); }
  stats& counters() const override { return srv_.counters(); }
  std::uint64_t messages_dropped() const override { return srv_.messages_dropped(); }
  std::size_t connection_count() const override { return srv_.connection_count(); }
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) override {
    stopped_ = true;
    srv_.stop(grace, std::move(on_stopped));
  }

 private:
  wsx::asio::server srv_;
  bool on_app_loop_;
  std::error_code start_error_;
  std::atomic<bool> stopped_{false};
};

class asio_client final : public test_client {
 public:
  asio_client(::asio::io_context& io, client_setup c) : cli_(io, options_of(std::move(c))) {}
  session_ptr connect(std::string_view url) override { return cli_.connect(url); }

 private:
  wsx::asio::client cli_;
};

class asio_transport final : public transport {
 public:
  asio_transport(bool single_threaded, unsigned threads)
      : single_threaded_(single_threaded), threads_(threads) {}

  std::unique_ptr<test_server> server(server_setup s) override {
    return std::make_unique<asio_server>(threads_.io(), std::move(s), single_threaded_, false);
  }
  std::unique_ptr<test_client> client(client_setup c) override {
    return std::make_unique<asio_client>(threads_.io(), std::move(c));
  }

 private:
  bool single_threaded_;
  io_threads threads_;
};

class asio_app_loop final : public loop_thread {
 public:
  explicit asio_app_loop(bool single_threaded) : single_threaded_(single_threaded) {}
  ~asio_app_loop() override { join(); }

  test_server& add_server(server_setup s) override {
    servers_.push_back(std::make_unique<asio_server>(io_, std::move(s), single_threaded_, true));
    return *servers_.back();
  }
  test_client& add_client(client_setup c) override {
    clients_.push_back(std::make_unique<asio_client>(io_, std::move(c)));
    return *clients_.back();
  }
  void add_app_timer(std::chrono::milliseconds after, std::atomic<bool>& fired) override {
    timers_.push_back(std::make_unique<::asio::steady_timer>(io_, after));
    timers_.back()->async_wait([&fired](const std::error_code& ec) {
      if (!ec) fired = true;
    });
  }
  std::size_t transport_work() const override {
    const auto& q = ::asio::use_service<wsx::asio::detail::deadline_queue>(io_);
    return q.size() + (q.waiting() ? 1 : 0);
  }

 protected:
  void run_loop() override { io_.run(); }
  void break_loop() override { io_.stop(); }
  void post(std::function<void()> f) override { ::asio::post(io_, std::move(f)); }
  void teardown() override {
    clients_.clear();
    servers_.clear();
    timers_.clear();
  }

 private:
  bool single_threaded_;
  mutable ::asio::io_context io_{1};
  std::vector<std::unique_ptr<test_server>> servers_;
  std::vector<std::unique_ptr<test_client>> clients_;
  std::vector<std::unique_ptr<::asio::steady_timer>> timers_;
};

}  // namespace

std::unique_ptr<transport> make_asio_transport(bool single_threaded, unsigned threads) {
  return std::make_unique<asio_transport>(single_threaded, threads);
}

std::unique_ptr<app_loop> make_asio_app_loop(bool single_threaded) {
  return std::make_unique<asio_app_loop>(single_threaded);
}

}  // namespace wsx::test
