// The chat on wsx::libevent::server. This thread owns an event_base that runs the signal events
// and, with --redis, the wsx::cluster::libevent_node; the server is attached to the same base
// with --threads 1, or runs on a loop_pool of N loops otherwise. SIGINT/SIGTERM stop the node
// (its users leave every node's presence at once) and the server (1001 to every session); the
// base's dispatch returns once nothing of either is left on it, and with a pool this thread then
// waits for the pool's last connection to go. Exit 0.
#include <event2/event.h>
#include <signal.h>

#include <cstdio>
#include <future>

#include "wsx/cluster/libevent.hpp"
#include "wsx/libevent/loop_pool.hpp"
#include "wsx/libevent/server.hpp"

#include "common/cli.hpp"
#include "serve.hpp"

namespace chat {
namespace {

struct stopper {
  wsx::libevent::server* srv = nullptr;
  wsx::cluster::libevent_node* node = nullptr;
  std::promise<void> stopped;
  event* on_int = nullptr;
  event* on_term = nullptr;
};

void on_signal(evutil_socket_t, short, void* arg) {
  auto& st = *static_cast<stopper*>(arg);
  event_del(st.on_int);  // gone, so that dispatch returns once the rest has stopped
  event_del(st.on_term);
  std::printf("chat: stopping\n");
  std::fflush(stdout);
  if (st.node != nullptr) st.node->stop();
  st.srv->stop(examples::stop_grace, [&st] { st.stopped.set_value(); });
}

}  // namespace

int serve_libevent(const settings& s, app& a) {
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "chat: cannot make an event_base\n");
    return 1;
  }
  int status = 0;
  {
    std::unique_ptr<wsx::libevent::loop_pool> pool;
    if (s.threads > 1) pool = std::make_unique<wsx::libevent::loop_pool>(s.threads);
    wsx::libevent::server_options so;
    wire(so, s, a, wsx::libevent::default_config());
    std::unique_ptr<wsx::libevent::server> srv =
        pool ? std::make_unique<wsx::libevent::server>(*pool, std::move(so))
             : std::make_unique<wsx::libevent::server>(base, std::move(so));
    stopper st;
    st.srv = srv.get();
    std::unique_ptr<wsx::cluster::libevent_node> node;
    if (const std::error_code ec = srv->start()) {
      std::fprintf(stderr, "chat: cannot listen on %s:%u: %s\n", s.host.c_str(),
                   static_cast<unsigned>(s.port), ec.message().c_str());
      status = 1;
    } else {
      const wsx::libevent::endpoint ep = srv->local_endpoint();
      std::printf("listening on %s\n", ep.to_string().c_str());
      const bool any = ep.address == "0.0.0.0" || ep.address == "::";
      const bool v6 = ep.address.find(':') != std::string::npos;
      const std::string url_host =
          any ? (v6 ? "[::1]" : "127.0.0.1") : (v6 ? "[" + ep.address + "]" : ep.address);
      if (s.cluster) {
        node = std::make_unique<wsx::cluster::libevent_node>(base, a.table,
                                                             node_options(s, a, ep.to_string()));
        if (const std::error_code nec = node->start()) {
          std::fprintf(stderr, "chat: cannot start the cluster node: %s\n", nec.message().c_str());
          status = 1;
        }
        a.hall.attach_cluster(node.get());
        st.node = node.get();
      }
      if (status == 0) {
        print_banner(a, s, url_host, ep.port);
        st.on_int = evsignal_new(base, SIGINT, on_signal, &st);
        st.on_term = evsignal_new(base, SIGTERM, on_signal, &st);
        event_add(st.on_int, nullptr);
        event_add(st.on_term, nullptr);
        event_base_dispatch(base);
        st.stopped.get_future().wait();  // a pool's connections end on the pool's threads
        event_free(st.on_int);
        event_free(st.on_term);
      }
    }
    node.reset();
    srv.reset();
  }
  event_base_free(base);
  return status;
}

}  // namespace chat
