// A node killed with -9 leaves the presence of the others within the node timeout: two nodes run
// as processes of their own (cluster_node, the program beside this test), one in this process;
// users on each; the process of one is killed with SIGKILL (no goodbye, its Redis connections
// just die with it) and the in-process node must see its users go, while the survivor's users
// stay and still get messages. Once per transport; a real redis-server started by the test.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster_nodes.hpp"
#include "redis_server.hpp"

namespace {

using namespace cluster_test;
using namespace std::chrono_literals;

// A cluster_node process: started with its arguments, its port read from the line it prints.
class node_process {
 public:
  node_process(transport t, std::uint16_t redis_port, const std::string& name,
               std::chrono::milliseconds timeout) {
    const char* program = std::getenv("WSX_CLUSTER_NODE");
    if (program == nullptr)
      throw std::runtime_error("WSX_CLUSTER_NODE is not set (meson test sets it)");
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    const std::string port = std::to_string(redis_port);
    const std::string ms = std::to_string(timeout.count());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(program, "cluster_node", "--transport", transport_name(t), "--redis-port",
              port.c_str(), "--node", name.c_str(), "--node-timeout-ms", ms.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[128] = {};
    unsigned p = 0;
    if (f == nullptr || std::fgets(line, sizeof line, f) == nullptr ||
        std::sscanf(line, "listening on 127.0.0.1:%u", &p) != 1) {
      if (f != nullptr) std::fclose(f);
      throw std::runtime_error("cluster_node " + name + " did not start");
    }
    std::fclose(f);
    port_ = static_cast<std::uint16_t>(p);
  }
  ~node_process() { end(SIGTERM); }

  // Sends `sig` to the process by its PID and reaps it.
  void end(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::uint16_t port() const noexcept { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class node_kill : public ::testing::TestWithParam<transport> {};

TEST_P(node_kill, a_killed_node_leaves_the_presence_within_the_node_timeout) {
  if (!redis_server::available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup)";
  redis_server redis;
  ASSERT_TRUE(redis.start());
  constexpr auto timeout = 3s;
  auto a = make_node(GetParam(), redis.port(), "a", timeout);
  node_process b(GetParam(), redis.port(), "b", timeout);
  node_process c(GetParam(), redis.port(), "c", timeout);
  clients cl;
  auto alice = cl.connect(a->port(), "alice");
  auto bob = cl.connect(b.port(), "bob");
  auto carol = cl.connect(c.port(), "carol");
  const std::vector<std::string> all{"alice", "bob", "carol"};
  ASSERT_TRUE(wait_until([&] { return a->cluster().online_users() == all; }));
  b.end(SIGKILL);
  // Within the node timeout (3 s); the deadline is only what a loaded machine may need.
  EXPECT_TRUE(wait_until(
      [&] {
        return a->cluster().online_users() == std::vector<std::string>{"alice", "carol"};
      },
      30s));
  // The survivor is untouched: its user still gets messages from here.
  ASSERT_TRUE(wait_until([&] {
    a->cluster().send_to_user("carol", wsx::message_kind::text, wsx::as_bytes("still here"));
    return cl.count(carol, "still here") > 0;
  }));
}

INSTANTIATE_TEST_SUITE_P(transports, node_kill,
                         ::testing::Values(transport::asio, transport::libevent),
                         [](const auto& p) { return std::string(transport_name(p.param)); });

}  // namespace
