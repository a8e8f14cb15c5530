// wss:// with a self-signed certificate the test makes with OpenSSL: echo works for a client that
// trusts it (as a CA in the client's context, or through client_options::ca_file); a client that
// verifies against the system's trust store, or expects another host name, fails with a clear
// error that reaches on_connect_error; a client that never starts TLS is dropped at the
// deadline, and the server's observer hears of failed TLS handshakes. Every server in every mode
// of every transport.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using wsx::test::client_setup;
using wsx::test::make_self_signed;
using wsx::test::mode;
using wsx::test::pem_pair;
using wsx::test::server_setup;
using wsx::test::wait_until;

// Client side outcome of one connection.
struct outcome {
  std::mutex mutex;
  std::vector<std::string> echoed;
  std::optional<wsx::rejected> error;
  int closes = 0;

  void attach(client_setup& co) {
    co.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      s->send_text("over tls");
      s->send(wsx::message_kind::binary, wsx::as_bytes(std::string(100'000, 's')));
    };
    co.handlers.on_message = [this](const wsx::session_ptr& s, wsx::message_kind,
                                    wsx::bytes_view d) {
      std::lock_guard lock(mutex);
      echoed.emplace_back(wsx::as_string(d));
      if (echoed.size() == 2) s->close(wsx::close_code::normal, "");
    };
    co.handlers.on_connect_error = [this](const wsx::session_ptr&, const wsx::rejected& r) {
      std::lock_guard lock(mutex);
      error = r;
    };
    co.handlers.on_close = [this](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                  std::error_code) {
      std::lock_guard lock(mutex);
      ++closes;
    };
  }
  int close_count() {
    std::lock_guard lock(mutex);
    return closes;
  }
};

// Parameter: the mode of every server of these tests.
class tls : public ::testing::TestWithParam<mode> {
 protected:
  void SetUp() override {
    pem_ = make_self_signed("DNS:localhost,IP:127.0.0.1");
    ASSERT_FALSE(pem_.cert.empty());
    server_setup so;
    so.tls = pem_;
    so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
      s->send(k, d);
    };
    server_ = t_->server(std::move(so));
    ASSERT_FALSE(server_->start_error());
  }
  void TearDown() override {
    if (!server_) return;
    EXPECT_TRUE(server_->stop_and_wait(2s));
    server_.reset();
    EXPECT_TRUE(wsx::test::all_sessions_gone());
  }
  std::string url(std::string_view host) const { return server_->url("/", "wss", host); }
  void expect_echo(outcome& o) {
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    EXPECT_FALSE(o.error.has_value()) << o.error->reason;
    ASSERT_EQ(o.echoed.size(), 2u);
    EXPECT_EQ(o.echoed[0], "over tls");
    EXPECT_EQ(o.echoed[1], std::string(100'000, 's'));
  }

  std::unique_ptr<wsx::test::transport> t_ = wsx::test::make_transport(GetParam());
  pem_pair pem_;
  std::unique_ptr<wsx::test::test_server> server_;
};

TEST_P(tls, wss_echo_with_the_certificate_trusted_by_name_and_by_ip) {
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    outcome o;
    client_setup co;
    co.trust = pem_.cert;
    o.attach(co);
    const auto cli = t_->client(std::move(co));
    cli->connect(url(host));
    expect_echo(o);
  }
}

TEST_P(tls, ca_file_option_trusts_the_certificate) {
  const std::string path = ::testing::TempDir() + "wsx_tls_test_ca.pem";
  std::ofstream(path) << pem_.cert;
  outcome o;
  client_setup co;
  co.ca_file = path;
  o.attach(co);
  const auto cli = t_->client(std::move(co));
  cli->connect(url("127.0.0.1"));
  expect_echo(o);
  std::remove(path.c_str());
}

TEST_P(tls, system_store_rejects_the_self_signed_certificate_with_a_clear_error) {
  outcome o;
  client_setup co;  // no context, no CA file: the system's trust store
  o.attach(co);
  const auto cli = t_->client(std::move(co));
  cli->connect(url("localhost"));
  ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
  std::lock_guard lock(o.mutex);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_THAT(o.error->reason, HasSubstr("certificate verify failed"));
  EXPECT_THAT(o.error->reason, HasSubstr("self-signed certificate"));
  EXPECT_EQ(o.error->status, 0);
  EXPECT_TRUE(o.echoed.empty());
  EXPECT_TRUE(wait_until([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(server_->table().session_count(), 0u);
}

TEST_P(tls, a_client_that_never_starts_the_tls_handshake_is_dropped_at_the_deadline) {
  server_setup so;
  so.tls = pem_;
  so.config.handshake_timeout = 200ms;
  const auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());
  poll_example::unique_fd fd = wsx::test::connect_loopback(srv->port());
  ASSERT_TRUE(fd);
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 1; }));
  // Silent: no ClientHello. The server must hang up on its own.
  EXPECT_EQ(wsx::test::read_until_closed(fd.get(), 20s), "");
  // Our FIN ends a server's linger at once (libevent waits for it; Asio does not).
  fd.reset();
  EXPECT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  EXPECT_TRUE(srv->stop_and_wait(2s));
}

// The server's observer hears of TLS failures too: plain HTTP sent to the wss:// port fails the
// TLS handshake (source transport, OpenSSL's reason), a silent client hits the deadline
// (source timeout, status 0).
TEST_P(tls, the_observer_sees_failed_tls_handshakes) {
  std::mutex mutex;
  std::vector<std::string> seen;
  server_setup so;
  so.tls = pem_;
  so.config.handshake_timeout = 300ms;
  so.observer.on_handshake_failure = [&](const wsx::handshake_failure& f) {
    std::lock_guard lock(mutex);
    seen.push_back(std::string(wsx::to_string(f.source)) + " " + std::to_string(f.status) + " " +
                   std::string(f.reason));
  };
  const auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(srv->port());
    wsx::test::send_all(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    wsx::test::read_until_closed(fd.get());
  }
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 1;
  }));
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(srv->port());
    EXPECT_EQ(wsx::test::read_until_closed(fd.get(), 20s), "");
  }
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 2;
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_THAT(seen[0], ::testing::StartsWith("transport 0 TLS handshake failed: "));
    EXPECT_THAT(seen[1], ::testing::StartsWith("timeout 0 "));
  }
  EXPECT_TRUE(srv->stop_and_wait(2s));
}

TEST_P(tls, a_trusted_certificate_for_another_host_is_refused) {
  // A second server whose (trusted) certificate names only another host.
  const pem_pair other = make_self_signed("DNS:other.example");
  ASSERT_FALSE(other.cert.empty());
  server_setup so;
  so.tls = other;
  const auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());
  const std::string port = std::to_string(srv->port());
  for (const auto& [host, why] : {std::pair{"localhost", "hostname mismatch"},
                                  std::pair{"127.0.0.1", "IP address mismatch"}}) {
    SCOPED_TRACE(host);
    outcome o;
    client_setup co;
    co.trust = other.cert;
    o.attach(co);
    const auto cli = t_->client(std::move(co));
    cli->connect("wss://" + std::string(host) + ":" + port + "/");
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    ASSERT_TRUE(o.error.has_value());
    EXPECT_THAT(o.error->reason, HasSubstr("certificate verify failed"));
    EXPECT_THAT(o.error->reason, HasSubstr(why));
  }
  EXPECT_TRUE(srv->stop_and_wait(2s));
}

INSTANTIATE_TEST_SUITE_P(transports, tls, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});

}  // namespace
