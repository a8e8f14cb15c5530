// TLS connections: OpenSSL reads and writes the non-blocking socket itself (a socket BIO on the
// connection's fd, writing with MSG_NOSIGNAL); the socket's readability and (one-shot)
// writability, from the loop's poller, say when to call it again.
//
// Handshake: in phase tls_handshake every readiness calls SSL_do_handshake() until it finishes;
// the core's handshake deadline (the pump's timer) bounds it, so a peer that never sends its
// ClientHello is dropped. A client sends SNI for host names (not for IP literals, RFC 6066 §3)
// and checks the certificate's name or IP (SSL_set1_host / X509_VERIFY_PARAM_set1_ip_asc) with
// peer verification on; a failed handshake reports OpenSSL's verify result ("certificate verify
// failed (self-signed certificate)").
//
// Reading: SSL_read() into the thread's buffer until OpenSSL wants more input. Records OpenSSL
// has already decrypted are not visible to the socket's event, so resuming after backpressure
// pokes the read callback instead of waiting for readability. Writing: up to 16 KiB of the
// core's front ranges are copied into a staging buffer and written with one SSL_write (one
// record for many small frames); after SSL_ERROR_WANT_WRITE the same staging bytes are written
// again once the socket is writable, as OpenSSL requires. Closing: close_notify, shutdown of the
// sending side, then read and discard until the peer's close_notify or FIN, or the linger
// deadline.
#include "tls_connection.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace wsx::libevent::detail {
namespace {

constexpr std::size_t max_staging = 16 * 1024;  // one TLS record

// The reason of the last OpenSSL error on this thread's queue (and clears the queue).
std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "error " + std::to_string(e);
}

// OpenSSL's socket BIO writes with write(2): a TLS alert or close_notify to a peer that is gone
// raised SIGPIPE, which kills a process that does not ignore it. This method is that BIO with
// send(MSG_NOSIGNAL) for writing, as the TCP path sends.
int write_nosignal(BIO* b, const char* data, int len) {
  const int fd = static_cast<int>(BIO_get_fd(b, nullptr));
  const ssize_t n = ::send(fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  BIO_clear_retry_flags(b);
  if (n <= 0 && BIO_sock_should_retry(-1)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "wsx socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, write_nosignal);
    BIO_meth_set_read(m, BIO_meth_get_read(base));
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

tls_connection::tls_connection(std::shared_ptr<loop> l,
                               const std::shared_ptr<connection_context>& ctx, int fd,
                               std::string remote, SSL_CTX* tls)
    : connection(std::move(l), ctx, fd, std::move(remote)), tls_(tls) {}

tls_connection::~tls_connection() { SSL_free(ssl_); }

bool tls_connection::make_ssl(bool server, const client_target* target) {
  ssl_ = SSL_new(tls_);
  BIO* bio = ssl_ != nullptr && socket_method() != nullptr ? BIO_new(socket_method()) : nullptr;
  bool ok = bio != nullptr;
  if (ok) {
    BIO_set_fd(bio, fd_, BIO_NOCLOSE);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns it now
  }
  if (ok) {
    SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
      SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
      const std::string& host = target->host;
      if (is_ip_literal(host)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str()) == 1;
      } else {
        ok = SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1 &&
             SSL_set1_host(ssl_, host.c_str()) == 1;
      }
    }
  }
  if (!ok) handshake_failed("cannot set up TLS: " + openssl_reason());
  return ok;
}

void tls_connection::begin_server() {
  become(phase::tls_handshake);
  if (!make_ssl(true, nullptr)) return;
  watch_read(true);
  continue_handshake();
}

void tls_connection::on_connected(client_target& target) {
  become(phase::tls_handshake);
  pending_ = std::make_unique<client_target>(std::move(target));
  if (!make_ssl(false, pending_.get())) return;
  watch_read(true);
  continue_handshake();
}

// A client reports it to on_connect_error, a server to its observer.
void tls_connection::handshake_failed(const std::string& why) {
  pump_.on_connect_failed(std::make_error_code(std::errc::protocol_error), why, clock::now());
}

void tls_connection::continue_handshake() {
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    phase_ = phase::open;
    wants_ = wants::nothing;
    if (pending_) {
      const std::unique_ptr<client_target> t = std::move(pending_);
      pump_.on_connected(t->request, clock::now());
    }
    if (phase_ == phase::open) read_input();  // the peer's first bytes may have come with it
    return;
  }
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ) return;  // reading is watched
  if (err == SSL_ERROR_WANT_WRITE) {
    watch_write();
    return;
  }
  std::string why = "TLS handshake failed: " + openssl_reason();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  handshake_failed(why);
}

// ---- reading ------------------------------------------------------------------------------------

void tls_connection::on_readable() {
  if (phase_ == phase::tls_handshake) {
    continue_handshake();
  } else if (phase_ == phase::lingering) {
    drain_lingering();
  } else if (phase_ == phase::open) {
    if (wants_ == wants::read_for_write) {
      wants_ = wants::nothing;
      pump_.on_write_complete(0, {}, clock::now());
      if (phase_ != phase::open) return;
    }
    if (wants_ != wants::write_for_read) read_input();
  }
}

void tls_connection::on_writable() {
  if (phase_ == phase::tls_handshake) {
    continue_handshake();
  } else if (phase_ == phase::open) {
    const wants w = std::exchange(wants_, wants::nothing);
    if (w == wants::write_for_read) {
      read_input();
    } else if (w == wants::write_for_write) {
      pump_.on_write_complete(0, {}, clock::now());
    }
  }
}

void tls_connection::read_input() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    if (phase_ != phase::open) return;
    if (!pump_.should_read()) {
      watch_read(false);  // backpressure (resume_reading() restarts) or the end
      return;
    }
    const int n = SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size()));
    const time_point now = clock::now();
    if (n > 0) {
      pump_.on_input(buffer.first(static_cast<std::size_t>(n)), now);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) {
      pump_.on_read_idle(now);
      return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
      wants_ = wants::write_for_read;
      watch_write();
      return;
    }
    // close_notify, FIN or a failure: the core decides what it means.
    ERR_clear_error();
    read_eof_ = true;
    watch_read(false);
    pump_.on_eof(now);
    return;
  }
  poke_read();  // more may be waiting: after the loop's other connections
}

void tls_connection::resume_reading() {
  if (phase_ != phase::open || read_eof_) return;
  watch_read(true);
  poke_read();
}

// ---- writing ------------------------------------------------------------------------------------

write_result tls_connection::write(const output_view& out) {
  if (staging_.empty()) {
    // The front of the output, up to one record. It stays the front until reported written.
    for (const bytes_view& range : out) {
      const std::size_t take = std::min(range.size(), max_staging - staging_.size());
      staging_.insert(staging_.end(), range.begin(), range.begin() + static_cast<long>(take));
      if (staging_.size() == max_staging) break;
    }
  }
  const int n = SSL_write(ssl_, staging_.data(), static_cast<int>(staging_.size()));
  if (n > 0) {
    const auto written = static_cast<std::size_t>(n);  // all of it: no partial writes
    staging_.clear();
    return {written, false, {}};
  }
  const int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_WANT_WRITE) {
    wants_ = wants::write_for_write;
    watch_write();
    return {0, true, {}};
  }
  if (err == SSL_ERROR_WANT_READ) {
    wants_ = wants::read_for_write;  // reading is watched
    return {0, true, {}};
  }
  ERR_clear_error();
  return {0, false, std::make_error_code(std::errc::connection_reset)};
}

void tls_connection::release_idle_buffers() {
  if (staging_.empty()) std::vector<std::byte>().swap(staging_);
}

// ---- closing ------------------------------------------------------------------------------------

void tls_connection::close_gracefully() {
  if (phase_ == phase::closed) return;
  if (ssl_ == nullptr || read_eof_) {  // nothing to say, or the peer is gone already
    close_now();
    return;
  }
  SSL_shutdown(ssl_);  // close_notify; best effort on a full socket
  ERR_clear_error();
  if (::shutdown(fd_, SHUT_WR) != 0) {
    close_now();
    return;
  }
  begin_linger();
  watch_read(true);
}

void tls_connection::drain_lingering() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    const int n = SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size()));  // discarded
    if (n > 0) continue;
    const int err = SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    close_now();  // the peer's close_notify or FIN (or a failure): done
    return;
  }
}

void tls_connection::close_socket() noexcept {
  SSL_free(ssl_);
  ssl_ = nullptr;
  connection::close_socket();
}

}  // namespace wsx::libevent::detail
