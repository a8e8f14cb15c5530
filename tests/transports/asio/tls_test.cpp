// wss:// with a self-signed certificate the test makes with OpenSSL: echo works for a client that
// trusts it (as a CA in the client's context, or through client_options::ca_file); a client that
// verifies against the system's trust store, or expects another host name, fails with a clear
// error that reaches on_connect_error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/buffer.hpp>

#include "asio_test_support.hpp"
#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using wsx::test::io_threads;
using wsx::test::wait_until;

struct pem_pair {
  std::string cert;
  std::string key;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed P-256 certificate valid for an hour around now, for `san` (e.g.
// "DNS:localhost,IP:127.0.0.1"), as PEM.
pem_pair make_self_signed(const char* san) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  if (!key || !x) return {};
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("wsx test"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return {};
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), x.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return {bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

std::shared_ptr<asio::ssl::context> server_context(const pem_pair& pem) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(pem.cert));
  ctx->use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
  return ctx;
}

std::shared_ptr<asio::ssl::context> trusting_context(const pem_pair& pem) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  ctx->add_certificate_authority(asio::buffer(pem.cert));
  return ctx;
}

// Client side outcome of one connection.
struct outcome {
  std::mutex mutex;
  std::vector<std::string> echoed;
  std::optional<wsx::rejected> error;
  int closes = 0;

  void attach(wsx::asio::client_options& co) {
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

// Parameter: every server of these tests with server_options::single_threaded (one loop thread,
// the TLS connections on the io_context's executor) or with a strand per connection (two).
class tls : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    pem_ = make_self_signed("DNS:localhost,IP:127.0.0.1");
    ASSERT_FALSE(pem_.cert.empty());
    wsx::asio::server_options so;
    so.single_threaded = GetParam();
    so.tls = server_context(pem_);
    so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
      s->send(k, d);
    };
    server_.emplace(threads_.io(), std::move(so));
    ASSERT_FALSE(server_->start());
  }
  void TearDown() override {
    if (!server_) return;
    std::promise<void> stopped;
    server_->stop(2s, [&] { stopped.set_value(); });
    EXPECT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
    EXPECT_TRUE(wait_until([] { return wsx::asio::live_sessions() == 0; }));
  }
  std::string url(std::string_view host) const {
    return "wss://" + std::string(host) + ":" + std::to_string(server_->local_endpoint().port()) +
           "/";
  }
  void expect_echo(outcome& o) {
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    EXPECT_FALSE(o.error.has_value()) << o.error->reason;
    ASSERT_EQ(o.echoed.size(), 2u);
    EXPECT_EQ(o.echoed[0], "over tls");
    EXPECT_EQ(o.echoed[1], std::string(100'000, 's'));
  }

  io_threads threads_{GetParam() ? 1u : 2u};
  pem_pair pem_;
  std::optional<wsx::asio::server> server_;
};

TEST_P(tls, wss_echo_with_the_certificate_trusted_by_name_and_by_ip) {
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    outcome o;
    wsx::asio::client_options co;
    co.tls = trusting_context(pem_);
    o.attach(co);
    wsx::asio::client cli(threads_.io(), std::move(co));
    cli.connect(url(host));
    expect_echo(o);
  }
}

TEST_P(tls, ca_file_option_trusts_the_certificate) {
  const std::string path = ::testing::TempDir() + "wsx_tls_test_ca.pem";
  std::ofstream(path) << pem_.cert;
  outcome o;
  wsx::asio::client_options co;
  co.ca_file = path;
  o.attach(co);
  wsx::asio::client cli(threads_.io(), std::move(co));
  cli.connect(url("127.0.0.1"));
  expect_echo(o);
  std::remove(path.c_str());
}

TEST_P(tls, system_store_rejects_the_self_signed_certificate_with_a_clear_error) {
  outcome o;
  wsx::asio::client_options co;  // no context, no CA file: the system's trust store
  o.attach(co);
  wsx::asio::client cli(threads_.io(), std::move(co));
  cli.connect(url("localhost"));
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
  wsx::asio::server_options so;
  so.single_threaded = GetParam();
  so.tls = server_context(pem_);
  so.config.handshake_timeout = 200ms;
  wsx::asio::server srv(threads_.io(), std::move(so));
  ASSERT_FALSE(srv.start());
  poll_example::unique_fd fd = wsx::test::connect_loopback(srv.local_endpoint().port());
  ASSERT_TRUE(fd);
  ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 1; }));
  // Silent: no ClientHello. The server must hang up on its own.
  EXPECT_EQ(wsx::test::read_until_closed(fd.get(), 20s), "");
  EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
  std::promise<void> stopped;
  srv.stop(2s, [&] { stopped.set_value(); });
  EXPECT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
}

// The server's observer hears of TLS failures too: plain HTTP sent to the wss:// port fails the
// TLS handshake (source transport, OpenSSL's reason), a silent client hits the deadline
// (source timeout, status 0).
TEST_P(tls, the_observer_sees_failed_tls_handshakes) {
  std::mutex mutex;
  std::vector<std::string> seen;
  wsx::asio::server_options so;
  so.single_threaded = GetParam();
  so.tls = server_context(pem_);
  so.config.handshake_timeout = 300ms;
  so.observer.on_handshake_failure = [&](const wsx::handshake_failure& f) {
    std::lock_guard lock(mutex);
    seen.push_back(std::string(wsx::to_string(f.source)) + " " + std::to_string(f.status) + " " +
                   std::string(f.reason));
  };
  wsx::asio::server srv(threads_.io(), std::move(so));
  ASSERT_FALSE(srv.start());
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(srv.local_endpoint().port());
    wsx::test::send_all(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    wsx::test::read_until_closed(fd.get());
  }
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 1;
  }));
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(srv.local_endpoint().port());
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
  std::promise<void> stopped;
  srv.stop(2s, [&] { stopped.set_value(); });
  EXPECT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
}

TEST_P(tls, a_trusted_certificate_for_another_host_is_refused) {
  // A second server whose (trusted) certificate names only another host.
  const pem_pair other = make_self_signed("DNS:other.example");
  ASSERT_FALSE(other.cert.empty());
  wsx::asio::server_options so;
  so.single_threaded = GetParam();
  so.tls = server_context(other);
  wsx::asio::server srv(threads_.io(), std::move(so));
  ASSERT_FALSE(srv.start());
  const std::string port = std::to_string(srv.local_endpoint().port());
  for (const auto& [host, why] : {std::pair{"localhost", "hostname mismatch"},
                                  std::pair{"127.0.0.1", "IP address mismatch"}}) {
    SCOPED_TRACE(host);
    outcome o;
    wsx::asio::client_options co;
    co.tls = trusting_context(other);
    o.attach(co);
    wsx::asio::client cli(threads_.io(), std::move(co));
    cli.connect("wss://" + std::string(host) + ":" + port + "/");
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    ASSERT_TRUE(o.error.has_value());
    EXPECT_THAT(o.error->reason, HasSubstr("certificate verify failed"));
    EXPECT_THAT(o.error->reason, HasSubstr(why));
  }
  std::promise<void> stopped;
  srv.stop(2s, [&] { stopped.set_value(); });
  EXPECT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
}

INSTANTIATE_TEST_SUITE_P(asio, tls, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "single_threaded" : "strand";
                         });

}  // namespace
