// deflate_load's payloads: JSON chat traffic generated from a seed, so that every run and every
// peer sees the same bytes and the compressor meets text that compresses like the real thing
// (repeated keys and names, varied words, ids and timestamps), not a repeated byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace deflate_load {

// `count` different messages of exactly `size` bytes each, valid UTF-8 (mostly ASCII, with a few
// accented words and emoji). From 256 bytes on each is one JSON document: a chat message object,
// or for sizes that hold several, a "history" object with an array of them; below 256 bytes, the
// text of one message. The same (size, count, seed) always gives the same messages.
std::vector<std::string> make_chat_messages(std::size_t size, std::size_t count,
                                            std::uint64_t seed);

}  // namespace deflate_load
