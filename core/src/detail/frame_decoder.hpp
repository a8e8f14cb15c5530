// Incremental RFC 6455 §5 frame decoder: headers of every length form, masking rules, control
// frame rules, fragmentation sequencing, per-frame and per-message limits, and UTF-8 of text
// messages (validated as pieces arrive, so a bad byte fails at once).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "detail/mask.hpp"
#include "detail/utf8.hpp"
#include "wsx/errors.hpp"
#include "wsx/types.hpp"

namespace wsx::detail {

class frame_decoder {
 public:
  struct limits {
    std::size_t max_frame_payload = SIZE_MAX;
    std::size_t max_message_size = SIZE_MAX;
    std::size_t max_fragments = SIZE_MAX;
  };

  // What next() found.
  enum class result : std::uint8_t {
    need_more,  // `in` is used up (or holds only part of a header): feed more bytes
    data,       // a piece of a data message: kind, first, last, payload
    control,    // a whole control frame: op, payload (at most 125 bytes)
    error,      // the stream is invalid: error(); sticky
  };

  struct item {
    result type = result::need_more;
    message_kind kind = message_kind::binary;  // data
    bool first = false;                        // data: the piece starts a message
    bool last = false;                         // data: the piece ends the message
    bool compressed = false;                   // data: the message's first frame had RSV1
    opcode op = opcode::continuation;          // control: close, ping or pong
    std::span<std::byte> payload;              // unmasked; see next()
  };

  // `receiver` is the role of the side decoding: a server requires masked frames, a client
  // rejects them.
  frame_decoder(role receiver, limits l) noexcept : receiver_(receiver), limits_(l) {}

  // Decodes from the front of `in`, unmasking payload bytes in place, and adds the bytes it used
  // to `consumed`. Call again with in.subspan(consumed) until need_more. A data payload span
  // points into `in`; a control payload points into `in` or, when the frame arrived in pieces,
  // into the decoder (valid until the next call). Every data frame yields at least one data
  // item, even when empty.
  item next(std::span<std::byte> in, std::size_t& consumed);

  // permessage-deflate was agreed: RSV1 marks the first frame of a compressed message (RFC 7692
  // §6), whose payload is then not UTF-8 checked here (the inflated text is, by the caller).
  void allow_rsv1() noexcept { rsv1_allowed_ = true; }

  errc error() const noexcept { return error_; }
  bool failed() const noexcept { return failed_; }
  // True while a message is unfinished (fragments to come, or the rest of a frame's payload).
  bool in_message() const noexcept { return in_message_; }
  // True between two messages with nothing of the next header read: a fresh decoder with the
  // same role and limits would go on exactly the same.
  bool at_boundary() const noexcept {
    return !in_frame_ && hdr_have_ == 0 && !in_message_ && !failed_;
  }

 private:
  item fail(errc e) noexcept;
  static item error_item() noexcept;
  item control_item(std::span<std::byte> payload) noexcept;

  role receiver_;
  limits limits_;
  // header being read
  std::array<std::byte, 14> hdr_{};
  std::size_t hdr_have_ = 0;
  // frame being read
  bool in_frame_ = false;
  bool fin_ = false;
  opcode op_ = opcode::continuation;
  bool masked_ = false;
  mask_key key_{};
  std::size_t key_phase_ = 0;
  std::uint64_t remaining_ = 0;
  // control frame assembly: allocated the first time a control frame arrives in pieces (rare),
  // so an idle connection does not carry 125 bytes for it
  std::unique_ptr<std::byte[]> ctl_;
  std::size_t ctl_have_ = 0;
  // message state
  bool in_message_ = false;
  bool message_first_piece_ = false;
  bool compressed_ = false;
  bool rsv1_allowed_ = false;
  message_kind kind_ = message_kind::binary;
  std::uint64_t message_size_ = 0;
  std::size_t fragments_ = 0;
  utf8_validator utf8_;
  bool failed_ = false;
  errc error_{};
};

}  // namespace wsx::detail
