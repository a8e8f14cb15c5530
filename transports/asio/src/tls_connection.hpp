// A TLS connection of the Asio transport (see connection.hpp for what it shares with plain TCP
// and tls_connection.cpp for the handshake, reads, writes and close_notify). Internal to
// transports/asio.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ssl/context.hpp>

#include "connection.hpp"

namespace wsx::asio::detail {

// TLS: completion-based, as asio::ssl::stream requires. Reads go into the connection's own
// buffer (the stream completes a read only after decrypting into it, so a thread-shared buffer
// could be overwritten by another connection in between); writes copy up to one TLS record of
// pending output into a staging buffer and async_write_some() it, consuming on completion.
template <class Executor>
class tls_connection final : public connection<Executor> {
  using base = connection<Executor>;
  using base::begin_linger, base::close_now, base::closed_, base::connect_socket, base::lingering_,
      base::pump_, base::self;

 public:
  using typename base::socket_type;

  tls_connection(socket_type socket, std::shared_ptr<::asio::ssl::context> tls,
                 const connection_params<Executor>& p);

  write_result write(const output_view& out) override;
  void resume_reading() override;
  void close_gracefully() override;

 private:
  static constexpr std::size_t record_size = 16 * 1024;  // TLS plaintext record limit

  void begin_server() override;
  void begin_client(client_target target) override;
  void close_socket() noexcept override;
  void on_handshake(const std::error_code& ec, const client_target* target);
  void start_read();
  void on_read(const std::error_code& ec, std::size_t n);
  void on_written(const std::error_code& ec, std::size_t n);
  std::string handshake_failure(const std::error_code& ec) const;

  std::shared_ptr<::asio::ssl::context> tls_;  // the stream refers to it
  typename io_types<Executor>::tls_stream stream_;
  std::unique_ptr<std::byte[]> read_buffer_;  // record_size bytes once the handshake is done
  std::vector<std::byte> staging_;            // the plaintext of the write in flight
  bool reading_ = false;
  bool writing_ = false;
  bool shutting_down_ = false;
};

}  // namespace wsx::asio::detail
