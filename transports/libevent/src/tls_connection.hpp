// A TLS connection of the libevent transport: OpenSSL on the connection's non-blocking socket
// (a socket BIO that writes with MSG_NOSIGNAL), driven by the same readiness as plain TCP.
// Internal to transports/libevent; see tls_connection.cpp.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"

namespace wsx::libevent::detail {

class tls_connection final : public connection {
 public:
  // `tls` is the context of every connection of the server or client (it holds a reference).
  tls_connection(std::shared_ptr<loop> l, const std::shared_ptr<connection_context>& ctx, int fd,
                 std::string remote, SSL_CTX* tls);
  ~tls_connection() override;

  void begin_server() override;
  write_result write(const output_view& out) override;
  void resume_reading() override;
  void close_gracefully() override;
  void release_idle_buffers() override;

 private:
  void on_connected(client_target& target) override;
  void on_readable() override;
  void on_writable() override;
  void close_socket() noexcept override;
  // Makes the SSL object on the connected socket. False (and the connection ended) on failure.
  bool make_ssl(bool server, const client_target* target);
  void continue_handshake();
  void handshake_failed(const std::string& why);
  void read_input();
  void drain_lingering();

  // What the last OpenSSL call that could not finish waits for: the socket to be readable or
  // writable again. A write waiting for input (a TLS 1.3 key update) resumes on readability.
  enum class wants : std::uint8_t { nothing, read_for_write, write_for_read, write_for_write };

  SSL_CTX* tls_;
  SSL* ssl_ = nullptr;
  wants wants_ = wants::nothing;
  // Client: the upgrade request, from the TCP connect until the TLS handshake is done.
  std::unique_ptr<client_target> pending_;
  // The front of the core's output being written: OpenSSL must be given the same bytes again
  // after SSL_ERROR_WANT_WRITE, and one record of many small frames is one SSL_write. Emptied
  // when written; its storage is freed when the connection goes quiet.
  std::vector<std::byte> staging_;
};

}  // namespace wsx::libevent::detail
