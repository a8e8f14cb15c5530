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

#include "detail/mask.hpp"
#include "detail/utf8.hpp"

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

}  // namespace

BENCHMARK_MAIN();
