// deflate_load: a WebSocket echo load generator that offers permessage-deflate (RFC 7692).
//
// Theory of operation. Load mode: open C connections (every server answer must agree with the
// first), frame the workload (JSON chat messages of S bytes, compressed once by this client),
// keep P messages in flight per connection, inflate every echo and compare it byte for byte;
// after a warm-up (W seconds, and until every connection has echoed once) measure for D seconds
// and print one JSON line: messages/s, latencies, compression ratios, CPU of this process, of the
// server and of anything else (noise), the server's RSS. Memory mode (--memory N): the server's
// RSS before and after opening N connections (idle: deflate agreed, nothing sent) and after each
// echoed one message (active). Loopback only. Exit 0 ok, 1 setup failure, 2 a connection failed.
#include <arpa/inet.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "driver.hpp"
#include "payload.hpp"

namespace {

using namespace deflate_load;

constexpr const char* usage =
    "usage: deflate_load [-c CONNS] [-p DEPTH] [-s BYTES] [-d SECS] [-w SECS] [--server-pid PID]\n"
    "                    [--client-max-window-bits N|bare|none] [--server-max-window-bits N]\n"
    "                    [--client-no-context-takeover] [--server-no-context-takeover]\n"
    "                    [--no-deflate] [--level N] [--mem-level N] [--messages N] [--seed N]\n"
    "                    [-n COUNT] [-W SETUP_WINDOW] [--memory N] ws://127.0.0.1:PORT/[PATH]\n"
    "  -c 1, -p 1, -s 1024, -d 5, -w 1: connections, messages in flight per connection, message\n"
    "  size (JSON chat text), measured and warm-up seconds; -n: measure COUNT echoes instead of\n"
    "  -d seconds (then stop sending). The offer defaults to Chromium's,\n"
    "  'permessage-deflate; client_max_window_bits'. --level/--mem-level: this client's own\n"
    "  compression (default 6 and 8). --memory N: server RSS per connection, idle and active\n"
    "  (needs --server-pid). Prints one JSON line.";

struct options {
  std::size_t conns = 1, depth = 1, size = 1024, messages = 0, memory = 0, window = 256;
  std::uint64_t count = 0;  // -n: measure this many echoes instead of -d seconds
  double duration = 5, warmup = 1;
  int server_pid = 0, level = 6, mem_level = 8;
  std::uint64_t seed = 17;
  offer off;
  target tgt;
};

[[noreturn]] void bad(const std::string& why) {
  std::fprintf(stderr, "deflate_load: %s\n%s\n", why.c_str(), usage);
  std::exit(1);
}

long number(const char* s, long lo, long hi, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi)
    bad(std::string(what) + ": " + s + " is not in " + std::to_string(lo) + "-" +
        std::to_string(hi));
  return v;
}

void parse_url(std::string_view url, target& t) {
  if (url.substr(0, 5) != "ws://") bad("not a ws:// URL: " + std::string(url));
  url.remove_prefix(5);
  const std::size_t slash = url.find('/');
  const std::string_view hp = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const std::size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos) bad("the URL needs a port");
  std::string host(hp.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<std::uint16_t>(
      number(std::string(hp.substr(colon + 1)).c_str(), 1, 65535, "port")));
  if (inet_pton(AF_INET, host.c_str(), &t.addr.sin_addr) != 1 ||
      (ntohl(t.addr.sin_addr.s_addr) >> 24) != 127)
    bad("only loopback servers (127.0.0.0/8, localhost): " + host);
  t.host_port = std::string(hp);
}

options parse(int argc, char** argv) {
  options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto val = [&]() -> const char* {
      if (i + 1 >= argc) bad(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::puts(usage);
      std::exit(0);
    } else if (a == "-c") {
      o.conns = static_cast<std::size_t>(number(val(), 1, 100000, "-c"));
    } else if (a == "-p") {
      o.depth = static_cast<std::size_t>(number(val(), 1, 1024, "-p"));
    } else if (a == "-s") {
      o.size = static_cast<std::size_t>(number(val(), 1, 16 << 20, "-s"));
    } else if (a == "-d" || a == "-w") {
      const char* v = val();
      const double d = std::atof(v);
      if (!(d >= 0 && d < 3600)) bad(a + ": " + v + " is not a number of seconds");
      (a == "-d" ? o.duration : o.warmup) = d;
    } else if (a == "-n") {
      o.count = static_cast<std::uint64_t>(number(val(), 1, 1L << 40, "-n"));
    } else if (a == "-W") {
      o.window = static_cast<std::size_t>(number(val(), 1, 100000, "-W"));
    } else if (a == "--server-pid") {
      o.server_pid = static_cast<int>(number(val(), 1, 1 << 30, "--server-pid"));
    } else if (a == "--client-max-window-bits") {
      const std::string v = val();
      o.off.client_max_window_bits = v == "bare" ? 0
                                     : v == "none"
                                         ? -1
                                         : static_cast<int>(number(v.c_str(), 8, 15, a.c_str()));
    } else if (a == "--server-max-window-bits") {
      o.off.server_max_window_bits = static_cast<int>(number(val(), 8, 15, a.c_str()));
    } else if (a == "--client-no-context-takeover") {
      o.off.client_no_context_takeover = true;
    } else if (a == "--server-no-context-takeover") {
      o.off.server_no_context_takeover = true;
    } else if (a == "--no-deflate") {
      o.off.deflate = false;
    } else if (a == "--level") {
      o.level = static_cast<int>(number(val(), 1, 9, "--level"));
    } else if (a == "--mem-level") {
      o.mem_level = static_cast<int>(number(val(), 1, 9, "--mem-level"));
    } else if (a == "--messages") {
      o.messages = static_cast<std::size_t>(number(val(), 1, 100000, "--messages"));
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(number(val(), 0, 1L << 62, "--seed"));
    } else if (a == "--memory") {
      o.memory = static_cast<std::size_t>(number(val(), 1, 100000, "--memory"));
    } else if (!a.empty() && a[0] != '-' && !have_url) {
      parse_url(a, o.tgt);
      have_url = true;
    } else {
      bad("unknown argument " + a);
    }
  }
  if (!have_url) bad("no URL");
  if (o.memory && !o.server_pid) bad("--memory needs --server-pid");
  // Enough different messages that none repeats within a 32 KiB window.
  if (!o.messages)
    o.messages = std::clamp<std::size_t>((128 * 1024 + o.size - 1) / o.size, 8, 1024);
  return o;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
  }
  return out;
}

// Opens the connections and frames the workload; exits 1 on failure.
void setup(driver& d, workload& w, const options& o, std::size_t n) {
  if (std::string e = d.open(n, 60'000'000'000ULL); !e.empty()) {
    std::fprintf(stderr, "deflate_load: %s\n", e.c_str());
    std::exit(1);
  }
  if (o.off.deflate && !w.agreed.deflate) {
    std::fprintf(stderr, "deflate_load: the server declined permessage-deflate\n");
    std::exit(1);
  }
  if (w.ring.empty()) {
    if (std::string e = build_frames(w, o.depth, o.level, o.mem_level); !e.empty()) {
      std::fprintf(stderr, "deflate_load: %s\n", e.c_str());
      std::exit(1);
    }
  }
}

int run_load(const options& o, workload& w) {
  driver d(o.tgt, o.off, w, o.depth, o.window);
  setup(d, w, o, o.conns);
  d.send();
  const std::uint64_t start = now_ns();
  d.run(start + static_cast<std::uint64_t>(o.warmup * 1e9));
  // The warm-up also lasts until every connection has echoed once (at most a minute more): a
  // server that sets up its zlib streams on first use, not at the upgrade, is then measured in
  // the same steady state as one that does it at once.
  for (const std::uint64_t limit = now_ns() + 60'000'000'000ULL; d.unwarmed() && now_ns() < limit;)
    d.run(now_ns() + 50'000'000ULL);
  const double warmed = static_cast<double>(now_ns() - start) / 1e9;
  d.reset_window();
  const std::uint64_t compressed0 = d.compressed_echoes(), wire0 = d.received_wire_bytes();
  const std::uint64_t t0 = now_ns(), self0 = self_cpu_ns(), srv0 = process_cpu_ns(o.server_pid),
                      all0 = machine_busy_ns();
  if (o.count) {
    d.run(t0 + 3'600'000'000'000ULL, o.count);  // -n: a fixed amount of work (instruction counts)
  } else {
    d.run(t0 + static_cast<std::uint64_t>(o.duration * 1e9));
  }
  const std::uint64_t t1 = now_ns(), self1 = self_cpu_ns(), srv1 = process_cpu_ns(o.server_pid),
                      all1 = machine_busy_ns();
  d.stop_sending();
  // What is in flight comes back (for a while), so that echoes_total is all the server did.
  for (const std::uint64_t limit = now_ns() + 10'000'000'000ULL; d.in_flight() && now_ns() < limit;)
    d.run(now_ns() + 50'000'000ULL);
  const double secs = static_cast<double>(t1 - t0) / 1e9;
  const auto pct = [&](std::uint64_t a, std::uint64_t b) {
    return 100.0 * static_cast<double>(b - a) / 1e9 / secs;
  };
  const double echoes = static_cast<double>(d.window_echoes());
  const double plain_per_msg = static_cast<double>(o.size);
  const double down = echoes ? static_cast<double>(d.received_wire_bytes() - wire0) / echoes : 0;
  const double up = static_cast<double>(w.wire_bytes) / static_cast<double>(w.count());
  const double other = o.server_pid ? pct(all0, all1) - pct(self0, self1) - pct(srv0, srv1)
                                    : pct(all0, all1) - pct(self0, self1);
  std::printf(
      "{\"conns\":%zu,\"depth\":%zu,\"size\":%zu,\"messages\":%zu,\"warmup_s\":%.3f,"
      "\"duration_s\":%.3f,"
      "\"msgs_per_s\":%.1f,\"payload_MB_per_s\":%.2f,\"wire_ratio_up\":%.4f,"
      "\"wire_ratio_down\":%.4f,\"compressed_echoes_pct\":%.1f,\"lat_p50_us\":%.1f,"
      "\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f,\"client_cpu_pct\":%.1f",
      o.conns, o.depth, o.size, w.count(), warmed, secs, echoes / secs,
      echoes * plain_per_msg / secs / 1e6, up / plain_per_msg, down / plain_per_msg,
      echoes ? 100.0 * static_cast<double>(d.compressed_echoes() - compressed0) / echoes : 0.0,
      d.latency().quantile(0.5) / 1e3, d.latency().quantile(0.99) / 1e3,
      static_cast<double>(d.latency().max()) / 1e3, pct(self0, self1));
  if (o.server_pid)
    std::printf(",\"server_cpu_pct\":%.1f,\"server_rss_kb\":%llu", pct(srv0, srv1),
                static_cast<unsigned long long>(rss_kib(o.server_pid)));
  std::printf(
      ",\"other_cpu_pct\":%.1f,\"stalled_conns\":%zu,\"echoes_total\":%llu,\"errors\":%zu,"
      "\"extensions\":\"%s\"}\n",
      std::max(0.0, other), d.stalled(), static_cast<unsigned long long>(d.total_echoes()),
      d.dead_count(), json_escape(w.agreed.header).c_str());
  std::fflush(stdout);
  if (d.dead_count()) {
    std::fprintf(stderr, "deflate_load: %s\n", d.first_error().c_str());
    return 2;
  }
  return 0;
}

// Lets the server settle (its frees and the kernel's accounting) before RSS is read.
std::uint64_t settled_rss(driver& d, int pid) {
  d.run(now_ns() + 1'000'000'000ULL);
  return rss_kib(pid);
}

int run_memory(const options& o, workload& w) {
  driver d(o.tgt, o.off, w, 1, o.window);
  setup(d, w, o, 1);  // the warm-up connection: the server's shared buffers and first streams
  d.send(4);
  d.run(now_ns() + 10'000'000'000ULL, 4);
  const std::uint64_t before = settled_rss(d, o.server_pid);
  setup(d, w, o, o.memory);
  const std::uint64_t idle = settled_rss(d, o.server_pid);
  d.reset_window();
  d.send(1);
  d.run(now_ns() + 60'000'000'000ULL, o.memory + 1);
  const bool all = d.window_echoes() >= o.memory + 1;
  const std::uint64_t active = settled_rss(d, o.server_pid);
  const double n = static_cast<double>(o.memory);
  std::printf(
      "{\"memory_conns\":%zu,\"size\":%zu,\"rss_kb_before\":%llu,\"rss_kb_idle\":%llu,"
      "\"rss_kb_active\":%llu,\"idle_bytes_per_conn\":%.0f,\"active_bytes_per_conn\":%.0f,"
      "\"errors\":%zu,\"extensions\":\"%s\"}\n",
      o.memory, o.size, static_cast<unsigned long long>(before),
      static_cast<unsigned long long>(idle), static_cast<unsigned long long>(active),
      (static_cast<double>(idle) - static_cast<double>(before)) * 1024 / n,
      (static_cast<double>(active) - static_cast<double>(before)) * 1024 / n, d.dead_count(),
      json_escape(w.agreed.header).c_str());
  std::fflush(stdout);
  if (d.dead_count() || !all) {
    std::fprintf(stderr, "deflate_load: %s\n",
                 d.dead_count() ? d.first_error().c_str() : "not every connection echoed");
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const options o = parse(argc, argv);
  workload w;
  w.messages = make_chat_messages(o.size, o.messages, o.seed);
  return o.memory ? run_memory(o, w) : run_load(o, w);
}
