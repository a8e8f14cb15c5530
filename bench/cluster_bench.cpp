// cluster_bench: wsx::cluster through one local redis-server, against local delivery in the same
// run (not a test: it prints figures; docs/performance.md, "Cluster (issue 19)").
//
// Setup: redis-server on a free port (stopped by PID); node A in this process, nodes B and C as
// cluster_node processes (tests/cluster), all on --transport; clients in this process.
//  1. send_to_user throughput: N messages from A to a user on B (cross-node) and to a user on A
//     (local), each carrying its send time; sent as fast as the node takes them with at most W
//     (2,000) sent and not yet received (a send refused with backlog_full waits 1 ms and is
//     retried). Messages/s from the first send to the last receipt, and the latency (send →
//     client receipt) p50/p99 under that load.
//  2. Latency alone: M messages one at a time (the next once the previous arrived), p50/p99.
//  3. Fan-out: S sessions, one user each, spread evenly over A, B and C, all in room "r"; one
//     send_to_room from A; the time until every session has it (median of R rounds).
//  4. Redis CPU: utime+stime of the redis-server (from /proc/PID/stat) over run 1's cross-node
//     part, per 100,000 messages.
// The machine's load average is printed before and after.
//
// usage: cluster_bench CLUSTER_NODE_PROGRAM [--transport asio|libevent] [--messages N]
//                      [--sessions S] [--rounds R]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cluster_nodes.hpp"
#include "redis_server.hpp"

namespace {

using namespace cluster_test;
using clk = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch())
      .count();
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  std::istringstream in(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A cluster_node process: its port from its first line; SIGTERM by PID at the end.
struct node_process {
  pid_t pid = -1;
  std::uint16_t port = 0;
  node_process(const char* program, transport t, std::uint16_t redis_port, const char* name) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    const std::string rp = std::to_string(redis_port);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(program, "cluster_node", "--transport", transport_name(t), "--redis-port", rp.c_str(),
              "--node", name, "--node-timeout-ms", "30000", "--room", "r",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    unsigned p = 0;
    char line[128] = {};
    if (f == nullptr || !std::fgets(line, sizeof line, f) ||
        std::sscanf(line, "listening on 127.0.0.1:%u", &p) != 1) {
      throw std::runtime_error(std::string("cluster_node ") + name + " did not start");
    }
    std::fclose(f);
    port = static_cast<std::uint16_t>(p);
  }
  ~node_process() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
};

// Clients that count what they receive and, for timestamped messages, record the latency.
class counting_clients {
 public:
  counting_clients() : guard_(::asio::make_work_guard(io_)) {
    wsx::asio::client_options co;
    co.handlers.on_open = [this](const wsx::session_ptr&, const wsx::opened&) { ++opened_; };
    co.handlers.on_message = [this](const wsx::session_ptr&, wsx::message_kind, wsx::bytes_view d) {
      const std::int64_t t = now_ns();
      std::int64_t sent = 0;
      if (d.size() >= sizeof sent) std::memcpy(&sent, d.data(), sizeof sent);
      {
        std::lock_guard lock(mutex_);
        if (sent > 0) latencies_.push_back(t - sent);
      }
      ++received_;
    };
    client_ = std::make_unique<wsx::asio::client>(io_, std::move(co));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~counting_clients() {
    for (auto& s : sessions_) s->close(wsx::close_code::normal, "");
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  void connect(std::uint16_t port, const std::string& user) {
    sessions_.push_back(
        client_->connect("ws://127.0.0.1:" + std::to_string(port) + "/?user=" + user));
  }
  bool wait_open(std::size_t n) {
    return wait_until([&] { return opened_.load() >= n; }, std::chrono::seconds(120));
  }
  std::size_t received() const { return received_.load(); }
  std::vector<std::int64_t> take_latencies() {
    std::lock_guard lock(mutex_);
    return std::exchange(latencies_, {});
  }

 private:
  ::asio::io_context io_;
  ::asio::executor_work_guard<::asio::io_context::executor_type> guard_;
  std::unique_ptr<wsx::asio::client> client_;
  std::thread thread_;
  std::vector<wsx::session_ptr> sessions_;
  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> received_{0};
  std::mutex mutex_;
  std::vector<std::int64_t> latencies_;
};

double pct(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]) /
         1e3;  // µs
}

// Run 1 for one target: N timestamped sends from `from` to `user`.
void throughput(const char* what, wsx::cluster::node& from, const std::string& user,
                counting_clients& c, std::size_t n, pid_t redis_pid) {
  c.take_latencies();
  const std::size_t base = c.received();
  const double cpu0 = cpu_seconds(redis_pid);
  const auto t0 = clk::now();
  std::string payload(64, 'x');
  std::uint64_t retries = 0;
  constexpr std::size_t window = 2000;
  for (std::size_t i = 0; i < n; ++i) {
    const auto stuck = clk::now() + std::chrono::seconds(10);  // a lost message: do not spin
    while (i - (c.received() - base) > window && clk::now() < stuck) std::this_thread::yield();
    for (;;) {
      const std::int64_t t = now_ns();
      std::memcpy(payload.data(), &t, sizeof t);
      const auto d = from.send_to_user(user, wsx::message_kind::binary, wsx::as_bytes(payload));
      if (d.remote != wsx::cluster::errc::backlog_full) break;
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const bool all = wait_until([&] { return c.received() - base >= n; }, std::chrono::seconds(60));
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const double cpu = cpu_seconds(redis_pid) - cpu0;
  const auto lat = c.take_latencies();
  std::printf(
      "%-22s %8zu msgs %s  %9.0f msg/s  p50 %9.1f us  p99 %9.1f us  redis CPU %.2f s "
      "(%.2f s per 100k)  backlog retries %" PRIu64 "\n",
      what, n, all ? "all arrived" : "MISSING", static_cast<double>(n) / secs, pct(lat, 0.5),
      pct(lat, 0.99), cpu, cpu * 100000.0 / static_cast<double>(n), retries);
}

// Run 2: one message at a time.
void latency_alone(const char* what, wsx::cluster::node& from, const std::string& user,
                   counting_clients& c, std::size_t m) {
  c.take_latencies();
  std::string payload(64, 'x');
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t before = c.received();
    const std::int64_t t = now_ns();
    std::memcpy(payload.data(), &t, sizeof t);
    from.send_to_user(user, wsx::message_kind::binary, wsx::as_bytes(payload));
    wait_until([&] { return c.received() > before; }, std::chrono::seconds(10));
  }
  const auto lat = c.take_latencies();
  std::printf("%-22s %8zu msgs one at a time          p50 %9.1f us  p99 %9.1f us\n", what, m,
              pct(lat, 0.5), pct(lat, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: cluster_bench CLUSTER_NODE_PROGRAM [--transport asio|libevent] "
                 "[--messages N] [--sessions S] [--rounds R]\n");
    return 2;
  }
  transport t = transport::asio;
  std::size_t messages = 100000, sessions = 10000, rounds = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--transport") t = v == "libevent" ? transport::libevent : transport::asio;
    if (f == "--messages") messages = std::stoul(v);
    if (f == "--sessions") sessions = std::stoul(v);
    if (f == "--rounds") rounds = std::stoul(v);
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::printf("cluster_bench: transport %s, load average before: %s, %ld CPUs\n", transport_name(t),
              loadavg().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN));
  redis_server redis;
  if (!redis_server::available() || !redis.start()) {
    std::fprintf(stderr, "cluster_bench: no redis-server\n");
    return 1;
  }
  auto a = make_node(t, redis.port(), "A", std::chrono::seconds(30), "r");
  node_process b(argv[1], t, redis.port(), "B");
  node_process c(argv[1], t, redis.port(), "C");
  {
    counting_clients cl;
    cl.connect(b.port, "remote-user");
    cl.connect(a->port(), "local-user");
    cl.wait_open(2);
    wait_until([&] { return a->cluster().is_online("remote-user"); });
    throughput("cross-node send", a->cluster(), "remote-user", cl, messages, redis.pid());
    throughput("local send", a->cluster(), "local-user", cl, messages, redis.pid());
    latency_alone("cross-node send", a->cluster(), "remote-user", cl, 2000);
    latency_alone("local send", a->cluster(), "local-user", cl, 2000);
  }
  {
    counting_clients cl;
    const std::uint16_t ports[3] = {a->port(), b.port, c.port};
    for (std::size_t i = 0; i < sessions; ++i) cl.connect(ports[i % 3], "f" + std::to_string(i));
    if (!cl.wait_open(sessions)) {
      std::fprintf(stderr, "cluster_bench: the %zu sessions did not all open\n", sessions);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // joins and subscriptions settle
    std::vector<std::int64_t> times;
    std::string payload = "room message";
    for (std::size_t r = 0; r < rounds; ++r) {
      const std::size_t before = cl.received();
      const auto t0 = clk::now();
      a->cluster().send_to_room("r", wsx::message_kind::text, wsx::as_bytes(payload));
      const bool all =
          wait_until([&] { return cl.received() - before >= sessions; }, std::chrono::seconds(60));
      times.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(clk::now() - t0).count());
      if (!all)
        std::printf("fan-out round %zu: only %zu of %zu\n", r, cl.received() - before, sessions);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::sort(times.begin(), times.end());
    std::printf(
        "room fan-out to %zu sessions on 3 nodes: median %.1f ms (min %.1f, max %.1f) over %zu "
        "rounds\n",
        sessions, static_cast<double>(times[times.size() / 2]) / 1e3,
        static_cast<double>(times.front()) / 1e3, static_cast<double>(times.back()) / 1e3, rounds);
  }
  a->stop();
  std::printf("cluster_bench: load average after: %s\n", loadavg().c_str());
  return 0;
}
