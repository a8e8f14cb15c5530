// wss:// with a self-signed certificate the test makes with OpenSSL: echo works for a client that
// trusts it (as a CA in the client's context, or through client_options::ca_file); a client that
// verifies against the system's trust store, or expects another host name, fails with a clear
// error that reaches on_connect_error. The server runs in each of the transport's run modes.
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

#include <openssl/ssl.h>

#include "libevent_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using wsx::test::run_mode;
using wsx::test::server_runner;
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

// An SSL_CTX the caller owns (SSL_CTX_free); the server and client take references of their own.
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

ctx_ptr trusting_context(const pem_pair& pem) {
  ctx_ptr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const auto cert = read_cert(pem.cert);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), cert.get());
  return ctx;
}

// Client side outcome of one connection.
struct outcome {
  std::mutex mutex;
  std::vector<std::string> echoed;
  std::optional<wsx::rejected> error;
  int closes = 0;

  void attach(wsx::libevent::client_options& co) {
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

// Parameter: the run mode of every server of these tests.
class tls : public ::testing::TestWithParam<run_mode> {
 protected:
  void SetUp() override {
    pem_ = make_self_signed("DNS:localhost,IP:127.0.0.1");
    ASSERT_FALSE(pem_.cert.empty());
    wsx::libevent::server_options so;
    const ctx_ptr server_tls = server_context(pem_);
    ASSERT_TRUE(server_tls);
    so.tls = server_tls.get();  // the server keeps a reference: ours goes at the end of this block
    so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
      s->send(k, d);
    };
    server_.emplace(GetParam(), std::move(so));
    ASSERT_FALSE(server_->start_error());
  }
  void TearDown() override {
    if (!server_) return;
    EXPECT_TRUE(server_->stop_and_wait(2s));
    server_.reset();
    EXPECT_TRUE(wait_until([] { return wsx::libevent::live_sessions() == 0; }));
  }
  std::string url(std::string_view host) const {
    return "wss://" + std::string(host) + ":" + std::to_string(server_->port()) + "/";
  }
  void expect_echo(outcome& o) {
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    EXPECT_FALSE(o.error.has_value()) << o.error->reason;
    ASSERT_EQ(o.echoed.size(), 2u);
    EXPECT_EQ(o.echoed[0], "over tls");
    EXPECT_EQ(o.echoed[1], std::string(100'000, 's'));
  }

  wsx::libevent::loop_pool client_loops_{1};
  pem_pair pem_;
  std::optional<server_runner> server_;
};

TEST_P(tls, wss_echo_with_the_certificate_trusted_by_name_and_by_ip) {
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    outcome o;
    wsx::libevent::client_options co;
    const ctx_ptr trusting = trusting_context(pem_);
    co.tls = trusting.get();
    o.attach(co);
    wsx::libevent::client cli(client_loops_, std::move(co));
    cli.connect(url(host));
    expect_echo(o);
  }
}

TEST_P(tls, ca_file_option_trusts_the_certificate) {
  const std::string path = ::testing::TempDir() + "wsx_tls_test_ca.pem";
  std::ofstream(path) << pem_.cert;
  outcome o;
  wsx::libevent::client_options co;
  co.ca_file = path;
  o.attach(co);
  wsx::libevent::client cli(client_loops_, std::move(co));
  cli.connect(url("127.0.0.1"));
  expect_echo(o);
  std::remove(path.c_str());
}

TEST_P(tls, system_store_rejects_the_self_signed_certificate_with_a_clear_error) {
  outcome o;
  wsx::libevent::client_options co;  // no context, no CA file: the system's trust store
  o.attach(co);
  wsx::libevent::client cli(client_loops_, std::move(co));
  cli.connect(url("localhost"));
  ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
  std::lock_guard lock(o.mutex);
  ASSERT_TRUE(o.error.has_value());
  EXPECT_THAT(o.error->reason, HasSubstr("certificate verify failed"));
  EXPECT_THAT(o.error->reason, HasSubstr("self-signed certificate"));
  EXPECT_EQ(o.error->status, 0);
  EXPECT_TRUE(o.echoed.empty());
  EXPECT_TRUE(wait_until([&] { return (*server_)->connection_count() == 0; }));
  EXPECT_EQ((*server_)->table().session_count(), 0u);
}

TEST_P(tls, a_client_that_never_starts_the_tls_handshake_is_dropped_at_the_deadline) {
  wsx::libevent::server_options so;
  const ctx_ptr server_tls = server_context(pem_);
  so.tls = server_tls.get();
  so.config.handshake_timeout = 200ms;
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());
  poll_example::unique_fd fd = wsx::test::connect_loopback(srv.port());
  ASSERT_TRUE(fd);
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 1; }));
  // Silent: no ClientHello. The server must hang up on its own.
  EXPECT_EQ(wsx::test::read_until_closed(fd.get(), 20s), "");
  EXPECT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  EXPECT_TRUE(srv.stop_and_wait(2s));
}

TEST_P(tls, a_trusted_certificate_for_another_host_is_refused) {
  // A second server whose (trusted) certificate names only another host.
  const pem_pair other = make_self_signed("DNS:other.example");
  ASSERT_FALSE(other.cert.empty());
  wsx::libevent::server_options so;
  const ctx_ptr server_tls = server_context(other);
  so.tls = server_tls.get();
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());
  const std::string port = std::to_string(srv.port());
  for (const auto& [host, why] : {std::pair{"localhost", "hostname mismatch"},
                                  std::pair{"127.0.0.1", "IP address mismatch"}}) {
    SCOPED_TRACE(host);
    outcome o;
    wsx::libevent::client_options co;
    const ctx_ptr trusting = trusting_context(other);
    co.tls = trusting.get();
    o.attach(co);
    wsx::libevent::client cli(client_loops_, std::move(co));
    cli.connect("wss://" + std::string(host) + ":" + port + "/");
    ASSERT_TRUE(wait_until([&] { return o.close_count() == 1; }));
    std::lock_guard lock(o.mutex);
    ASSERT_TRUE(o.error.has_value());
    EXPECT_THAT(o.error->reason, HasSubstr("certificate verify failed"));
    EXPECT_THAT(o.error->reason, HasSubstr(why));
  }
  EXPECT_TRUE(srv.stop_and_wait(2s));
}

INSTANTIATE_TEST_SUITE_P(libevent, tls,
                         ::testing::Values(run_mode::attached, run_mode::one_loop,
                                           run_mode::two_loops),
                         [](const ::testing::TestParamInfo<run_mode>& param_info) {
                           return std::string(wsx::test::mode_name(param_info.param));
                         });

}  // namespace
