// The suite's modes and the factories that pick a transport's implementation for each (see
// transport.hpp). The build defines WSX_SUITE_ASIO and WSX_SUITE_LIBEVENT for the transports it
// has; the modes of a transport not built are in no list.
#include "transport.hpp"

#include <algorithm>

#include "transport_impl.hpp"

namespace wsx::test {
namespace {

bool built(mode m) {
  switch (m) {
    case mode::asio_strands:
    case mode::asio_single_threaded:
      return WSX_SUITE_ASIO != 0;
    case mode::libevent_attached:
    case mode::libevent_one_loop:
    case mode::libevent_two_loops:
      return WSX_SUITE_LIBEVENT != 0;
  }
  return false;
}

std::vector<mode> only_built(std::vector<mode> modes) {
  std::erase_if(modes, [](mode m) { return !built(m); });
  return modes;
}

}  // namespace

const char* mode_name(mode m) {
  switch (m) {
    case mode::asio_strands:
      return "asio_strands";
    case mode::asio_single_threaded:
      return "asio_single_threaded";
    case mode::libevent_attached:
      return "libevent_attached";
    case mode::libevent_one_loop:
      return "libevent_one_loop";
    case mode::libevent_two_loops:
      return "libevent_two_loops";
  }
  return "?";
}

std::vector<mode> all_modes() {
  return only_built({mode::asio_strands, mode::asio_single_threaded, mode::libevent_attached,
                     mode::libevent_one_loop, mode::libevent_two_loops});
}

std::vector<mode> client_modes() {
  return only_built({mode::asio_strands, mode::libevent_one_loop});
}

std::vector<mode> app_loop_modes() {
  return only_built({mode::asio_strands, mode::asio_single_threaded, mode::libevent_attached});
}

std::unique_ptr<transport> make_transport(mode m, unsigned threads) {
  switch (m) {
#if WSX_SUITE_ASIO
    case mode::asio_strands:
      return make_asio_transport(false, threads);
    case mode::asio_single_threaded:
      return make_asio_transport(true, 1);
#endif
#if WSX_SUITE_LIBEVENT
    case mode::libevent_attached:
    case mode::libevent_one_loop:
    case mode::libevent_two_loops:
      return make_libevent_transport(m);
#endif
    default:
      break;
  }
  return nullptr;
}

std::unique_ptr<app_loop> make_app_loop(mode m) {
  switch (m) {
#if WSX_SUITE_ASIO
    case mode::asio_strands:
      return make_asio_app_loop(false);
    case mode::asio_single_threaded:
      return make_asio_app_loop(true);
#endif
#if WSX_SUITE_LIBEVENT
    case mode::libevent_attached:
      return make_libevent_app_loop();
#endif
    default:
      break;  // a pool's loops are not the application's
  }
  return nullptr;
}

}  // namespace wsx::test
