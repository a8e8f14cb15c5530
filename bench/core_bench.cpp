// Micro-benchmarks for the core's hot loops, reported in bytes/s against a memcpy baseline.
//
// Every benchmark builds its input before the timed loop and runs at 16 B, 1 KiB, 64 KiB and
// 1 MiB, so small-call overhead, L1/L2-resident and memory-bound throughput are all visible.
// Compare each unit's GB/s with BM_memcpy at the same size. One section per unit; add new units
// as new sections.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "detail/frame_decoder.hpp"
#include "detail/frame_encoder.hpp"
#include "detail/mask.hpp"
#include "detail/random.hpp"
#include "detail/output_queue.hpp"
#include "detail/utf8.hpp"
#include "wsx/connection.hpp"

namespace {

void payload_sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {16, 1024, 65536, 1048576}) b->Arg(n);
}

std::vector<std::byte> filled(std::size_t n, std::uint8_t seed) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 31 + seed) & 0xFF);
  return out;
}

// ---- baseline --------------------------------------------------------------------------------
void BM_memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = filled(n, 1);
  std::vector<std::byte> dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_memcpy)->Apply(payload_sizes);

// ---- mask (RFC 6455 §5.3) ------------------------------------------------------------------
constexpr wsx::detail::mask_key bench_key = {std::byte{0x37}, std::byte{0xFA}, std::byte{0x21},
                                             std::byte{0x3D}};

// In-place unmasking, as the frame decoder does with a received client payload.
void BM_unmask(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto data = filled(n, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(wsx::detail::apply_mask(data.data(), n, bench_key, 0));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_unmask)->Apply(payload_sizes);

// Fused copy + mask, as a client does when it writes a payload into its output buffer.
void BM_copy_masked(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = filled(n, 3);
  std::vector<std::byte> dst(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(wsx::detail::copy_masked(dst.data(), src.data(), n, bench_key, 0));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_copy_masked)->Apply(payload_sizes);

// ---- utf8 (RFC 6455 §8.1) ------------------------------------------------------------------
void run_utf8(benchmark::State& state, const std::vector<std::byte>& text) {
  for (auto _ : state) {
    wsx::detail::utf8_validator v;
    benchmark::DoNotOptimize(v.feed(text));
    benchmark::DoNotOptimize(v.complete());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_utf8_ascii(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> text(n);
  for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<std::byte>('a' + i % 26);
  run_utf8(state, text);
}
BENCHMARK(BM_utf8_ascii)->Apply(payload_sizes);

// About half the bytes belong to multi-byte sequences: words of Latin, Greek (2-byte), CJK
// (3-byte) and emoji (4-byte) text separated by ASCII, cut to the requested size on a code
// point boundary.
void BM_utf8_mixed(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string unit =
      "hello, \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 world "
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 ok ";
  std::string s;
  while (s.size() < n) s += unit;
  std::size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  std::vector<std::byte> text(s.size());
  std::memcpy(text.data(), s.data(), s.size());
  if (!wsx::detail::is_valid_utf8(text)) {
    state.SkipWithError("mixed text is not valid UTF-8");
    return;
  }
  run_utf8(state, text);
}
BENCHMARK(BM_utf8_mixed)->Apply(payload_sizes);


// ---- frame decoder and encoder (RFC 6455 §5) -------------------------------------------------
// One masked client frame decoded per iteration by a server-side decoder. Decoding unmasks in
// place, so the buffer alternates between masked and clear bytes; the work is the same.
void run_decode(benchmark::State& state, wsx::opcode op) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> payload(n, std::byte{'a'});
  wsx::detail::output_queue q;
  const wsx::detail::mask_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  wsx::detail::encode_frame(q, true, op, payload, &key);
  std::vector<std::byte> wire;
  for (auto r : q.pending()) wire.insert(wire.end(), r.begin(), r.end());
  wsx::detail::frame_decoder dec{wsx::role::server, {}};
  for (auto _ : state) {
    std::size_t used = 0;
    auto it = dec.next(wire, used);
    benchmark::DoNotOptimize(it);
    // Re-mask the payload so every iteration sees the same bytes (text must stay valid UTF-8).
    if (op == wsx::opcode::text)
      wsx::detail::apply_mask(wire.data() + (wire.size() - n), n, key, 0);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
void BM_frame_decode_binary(benchmark::State& state) { run_decode(state, wsx::opcode::binary); }
BENCHMARK(BM_frame_decode_binary)->Apply(payload_sizes);
void BM_frame_decode_text(benchmark::State& state) { run_decode(state, wsx::opcode::text); }
BENCHMARK(BM_frame_decode_text)->Apply(payload_sizes);

// One frame appended to the output queue and consumed per iteration: server (unmasked) and
// client (masked with a fixed key; key generation is measured separately below).
void run_encode(benchmark::State& state, bool masked) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto payload = filled(n, 7);
  const wsx::detail::mask_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  wsx::detail::output_queue q;
  for (auto _ : state) {
    wsx::detail::encode_frame(q, true, wsx::opcode::binary, payload, masked ? &key : nullptr);
    benchmark::DoNotOptimize(q.pending().data());
    q.consume(q.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
void BM_frame_encode_server(benchmark::State& state) { run_encode(state, false); }
BENCHMARK(BM_frame_encode_server)->Apply(payload_sizes);
void BM_frame_encode_client(benchmark::State& state) { run_encode(state, true); }
BENCHMARK(BM_frame_encode_client)->Apply(payload_sizes);

void BM_mask_key(benchmark::State& state) {
  wsx::detail::mask_key key;
  for (auto _ : state) {
    benchmark::DoNotOptimize(wsx::detail::next_mask_key(key));
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_mask_key);

// ---- connection: a whole server-side echo step --------------------------------------------------
// receive(one masked frame) → next_event (message) → send (echo) → consume_output, 16 frames per
// receive() as a pipelining client would send them. Items/s = messages echoed per second.
void BM_connection_echo(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t depth = 16;
  const auto t = wsx::time_point{} + std::chrono::hours(1);
  wsx::config cfg;
  cfg.delivery = wsx::delivery::whole_messages;
  wsx::connection c{wsx::role::server, cfg, t};
  const std::string req =
      "GET / HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  c.receive(wsx::as_bytes(req), t);
  while (c.next_event()) c.accept({}, t);
  c.consume_output(c.buffered_amount(), t);
  wsx::detail::output_queue q;
  const wsx::detail::mask_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  const std::vector<std::byte> payload(n, std::byte{'a'});
  for (std::size_t i = 0; i < depth; ++i)
    wsx::detail::encode_frame(q, true, wsx::opcode::binary, payload, &key);
  std::vector<std::byte> wire;
  for (auto r : q.pending()) wire.insert(wire.end(), r.begin(), r.end());
  // Each round the batch lands in a read buffer first, as recv() would put it there.
  const bool in_place = state.range(1) != 0;
  std::vector<std::byte> read_buffer(wire.size());
  for (auto _ : state) {
    std::memcpy(read_buffer.data(), wire.data(), wire.size());
    if (in_place) {
      c.receive_in_place(read_buffer, t);
    } else {
      c.receive(read_buffer, t);
    }
    while (auto ev = c.next_event()) {
      if (auto* m = std::get_if<wsx::message>(&*ev)) c.send(wsx::opcode::binary, m->payload, true, t);
    }
    if (in_place) c.release_input();
    benchmark::DoNotOptimize(c.pending_output().total_bytes());
    c.consume_output(c.buffered_amount(), t);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * depth * n));
}
// Second argument: 0 receive() (copies the input), 1 receive_in_place() (decodes in the buffer).
BENCHMARK(BM_connection_echo)->ArgsProduct({{16, 1024, 65536}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
