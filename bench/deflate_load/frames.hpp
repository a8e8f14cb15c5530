// deflate_load's traffic: the messages every connection sends, framed once for the whole run, and
// the receiving half of a connection, which inflates each echo and checks it byte for byte.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "handshake.hpp"

namespace deflate_load {

// What every connection shares. The client compresses each message on its own (a fresh stream per
// message, valid whatever the context takeover agreed), so that sending costs it nothing but a
// send(): the server's compressor and decompressor do the work being measured.
struct workload {
  std::vector<std::string> messages;
  agreement agreed;
  bool compressed = false;           // the client's frames are compressed (RSV1)
  std::vector<unsigned char> ring;   // masked frames of messages 0..n-1, then 0..depth-1 again
  std::vector<std::size_t> offsets;  // frame i starts at offsets[i]; n + depth + 1 entries
  std::uint64_t wire_bytes = 0;      // payload bytes of frames 0..n-1 as sent

  std::size_t count() const { return messages.size(); }
  // The bytes of `k` frames starting with message `first` (k <= depth).
  const unsigned char* frames_at(std::size_t first) const { return ring.data() + offsets[first]; }
  std::size_t frames_size(std::size_t first, std::size_t k) const {
    return offsets[first + k] - offsets[first];
  }
};

// Fills w.ring and w.offsets from w.messages and w.agreed: text frames, FIN, masked with one
// random key, compressed at `level` with `mem_level` and the window the server agreed the client
// may use when deflate was agreed (uncompressed when it allows only 8, which zlib cannot honour).
// Returns what went wrong, or the empty string.
std::string build_frames(workload& w, std::size_t depth, int level, int mem_level);

// The receiving half of one connection: a streaming frame parser (server frames unmasked, RSV1
// only on the first frame of a message and only when deflate was agreed), inflation with the
// agreed window and takeover (RFC 7692 §7.2.2), and a byte-for-byte comparison of every echo with
// the message it answers: the k-th echo must be message (first + k) mod n, with the opcode text.
class echo_stream {
 public:
  echo_stream(const workload& w, std::size_t first);
  ~echo_stream();
  echo_stream(const echo_stream&) = delete;
  echo_stream& operator=(const echo_stream&) = delete;

  // Consumes `n` bytes from the server. Adds the number of complete, correct echoes to `echoes`;
  // appends a masked pong for each ping to `control`. Returns the empty string, or the first
  // protocol error or mismatch (the connection is then dead).
  std::string feed(const unsigned char* p, std::size_t n, std::size_t& echoes,
                   std::string& control);

  std::uint64_t compressed_echoes = 0;  // echoes with RSV1
  std::uint64_t wire_bytes = 0;         // payload bytes received in data frames

 private:
  std::string on_header();
  std::string on_payload(const unsigned char* p, std::size_t n);
  std::string on_frame_end(std::size_t& echoes, std::string& control);
  std::string inflate_some(const unsigned char* p, std::size_t n, bool is_tail);
  std::string compare(const unsigned char* p, std::size_t n);

  const workload& w_;
  std::size_t expect_;   // index of the message the current echo must equal
  std::size_t got_ = 0;  // bytes of it checked so far
  unsigned char hdr_[14];
  std::size_t hdr_have_ = 0;
  std::uint64_t left_ = 0;  // payload bytes of the current frame still to come
  bool in_payload_ = false;
  unsigned char op_ = 0;
  bool fin_ = false;
  bool in_message_ = false;  // between a data frame without FIN and its last continuation
  bool message_compressed_ = false;
  unsigned char message_op_ = 0;
  std::string ctrl_;  // the current control frame's payload
  std::unique_ptr<z_stream> z_;
  bool ended_ = false;  // the compressed data had a final block (BFINAL)
};

}  // namespace deflate_load
