// TLS connections: asio::ssl::stream over the connection's TCP socket.
//
// The stream needs completion-based I/O, so this differs from tcp_connection in two ways that
// cost memory. Reads: one async_read_some() at a time into the connection's own 16 KiB buffer —
// the stream decrypts into that buffer before the completion runs, so it cannot be shared with
// other connections of the thread (Asio's stream adds its own ~34 KiB of record buffers and
// OpenSSL its session state on top). Writes: the stream encrypts only the first buffer of a
// sequence per call, so write() copies up to one record (16 KiB) of the core's pending ranges
// into a staging buffer — many small frames still leave as one record — and the core's bytes are
// consumed when async_write_some() completes. The staging buffer is freed when nothing is queued.
//
// A client sets SNI (for host names, RFC 6066 §3) and the host name or IP the certificate must
// match (SSL_set1_host), with peer verification on; a failed handshake reports OpenSSL's verify
// result ("certificate verify failed (self-signed certificate)"). Closing sends close_notify
// (async_shutdown), bounded by the linger deadline.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/error.hpp>

#include "tls_connection.hpp"

namespace wsx::asio::detail {
namespace {

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  ::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

template <class Executor>
tls_connection<Executor>::tls_connection(socket_type socket,
                                         std::shared_ptr<::asio::ssl::context> tls,
                                         const connection_params<Executor>& p)
    : base(p), tls_(std::move(tls)), stream_(std::move(socket), *tls_) {}

template <class Executor>
void tls_connection<Executor>::begin_server() {
  if (closed_) return;
  std::error_code ignored;
  stream_.next_layer().set_option(tcp::no_delay(true), ignored);
  stream_.async_handshake(::asio::ssl::stream_base::server,
                          [self = std::static_pointer_cast<tls_connection>(self())](
                              const std::error_code& ec) { self->on_handshake(ec, nullptr); });
}

template <class Executor>
void tls_connection<Executor>::begin_client(client_target target) {
  if (closed_) return;
  connect_socket(stream_.next_layer(), std::move(target), [this, keep = self()](client_target t) {
    SSL* ssl = stream_.native_handle();
    const bool named = !is_ip_literal(t.host);
    if ((named && SSL_set_tlsext_host_name(ssl, t.host.c_str()) != 1) ||
        SSL_set1_host(ssl, t.host.c_str()) != 1) {
      pump_.on_connect_failed(std::make_error_code(std::errc::invalid_argument),
                              "cannot use '" + t.host + "' as the TLS server name", clock::now());
      return;
    }
    stream_.set_verify_mode(::asio::ssl::verify_peer);
    stream_.async_handshake(
        ::asio::ssl::stream_base::client,
        [self = std::static_pointer_cast<tls_connection>(self()),
         t = std::move(t)](const std::error_code& ec) { self->on_handshake(ec, &t); });
  });
}

template <class Executor>
void tls_connection<Executor>::on_handshake(const std::error_code& ec,
                                            const client_target* target) {
  if (closed_) return;
  if (ec) {
    if (target != nullptr) {
      pump_.on_connect_failed(ec, handshake_failure(ec), clock::now());
    } else {
      pump_.abort(clock::now());  // the WebSocket never started: nothing to report
    }
    return;
  }
  read_buffer_ = std::make_unique_for_overwrite<std::byte[]>(record_size);
  if (target != nullptr) pump_.on_connected(target->request, clock::now());
  start_read();
}

template <class Executor>
std::string tls_connection<Executor>::handshake_failure(const std::error_code& ec) const {
  std::string reason = "TLS handshake failed: " + ec.message();
  // const_cast: native_handle() is not const, but reading the verify result changes nothing.
  const long verify = SSL_get_verify_result(
      const_cast<typename io_types<Executor>::tls_stream&>(stream_).native_handle());
  if (verify != X509_V_OK) {
    reason += " (";
    reason += X509_verify_cert_error_string(verify);
    reason += ")";
  }
  return reason;
}

template <class Executor>
void tls_connection<Executor>::close_socket() noexcept {
  std::error_code ignored;
  stream_.next_layer().close(ignored);
}

// ---- reading ------------------------------------------------------------------------------------

template <class Executor>
void tls_connection<Executor>::start_read() {
  if (reading_ || closed_ || shutting_down_ || !read_buffer_ || !pump_.should_read()) return;
  reading_ = true;
  stream_.async_read_some(::asio::buffer(read_buffer_.get(), record_size),
                          [self = std::static_pointer_cast<tls_connection>(self())](
                              const std::error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

template <class Executor>
void tls_connection<Executor>::resume_reading() {
  start_read();
}

template <class Executor>
void tls_connection<Executor>::on_read(const std::error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_ || shutting_down_) return;
  const time_point now = clock::now();
  if (n != 0) pump_.on_input({read_buffer_.get(), n}, now);
  if (closed_ || shutting_down_) return;
  if (ec) {  // eof, stream_truncated (no close_notify), reset: the core decides what it means
    pump_.on_eof(now);
    return;
  }
  if (n < record_size) pump_.on_read_idle(now);
  start_read();
}

// ---- writing ------------------------------------------------------------------------------------

template <class Executor>
write_result tls_connection<Executor>::write(const output_view& out) {
  staging_.clear();
  for (const bytes_view& range : out) {
    const std::size_t take = std::min(range.size(), record_size - staging_.size());
    staging_.insert(staging_.end(), range.begin(),
                    range.begin() + static_cast<std::ptrdiff_t>(take));
    if (staging_.size() == record_size) break;
  }
  writing_ = true;
  stream_.async_write_some(
      ::asio::buffer(staging_),
      [self = std::static_pointer_cast<tls_connection>(self())](
          const std::error_code& ec, std::size_t n) { self->on_written(ec, n); });
  return {0, true, {}};
}

template <class Executor>
void tls_connection<Executor>::on_written(const std::error_code& ec, std::size_t n) {
  writing_ = false;
  if (closed_) return;
  pump_.on_write_complete(n, ec, clock::now());
  if (!writing_ && pump_.buffered_amount() == 0) std::vector<std::byte>().swap(staging_);
}

// ---- closing ------------------------------------------------------------------------------------

template <class Executor>
void tls_connection<Executor>::close_gracefully() {
  if (closed_) return;
  if (!read_buffer_) {
    // The TLS handshake never finished (a handshake deadline): there is no session to shut
    // down, and the stream allows no shutdown while its handshake is outstanding.
    close_now();
    return;
  }
  shutting_down_ = true;
  begin_linger();
  // The shutdown reads the peer's close_notify itself: end our read first (one read at a time).
  std::error_code ignored;
  stream_.next_layer().cancel(ignored);
  stream_.async_shutdown([self = std::static_pointer_cast<tls_connection>(self())](
                             const std::error_code&) { self->close_now(); });
}

template class tls_connection<strand_type>;
template class tls_connection<io_executor>;

}  // namespace wsx::asio::detail
