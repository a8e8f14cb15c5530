// A small fixed pool of worker threads for the chat's slow work (token checks, the history
// lookup): anything that must not run on a connection's loop. Jobs run in FIFO order on
// whichever worker is free; they answer the connection from the worker thread through the
// thread-safe wsx handles (pending_upgrade::accept/reject, session::send).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace chat {

class worker_pool {
 public:
  explicit worker_pool(std::size_t threads) {
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
  }
  // Runs the jobs already queued, then joins the workers.
  ~worker_pool() {
    stop();
    join();
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Queues `job`. Returns false (and drops it) once stop() was called: the caller answers the
  // connection itself then.
  bool post(std::function<void()> job) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return false;
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
  }

  // Refuses new jobs; the workers finish the queued ones and exit.
  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
  }

  // Waits until the workers have exited (call stop() first). Afterwards no job runs any more, so
  // whatever the jobs refer to may be destroyed. Call it from one thread only.
  void join() {
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // last: started after the members above exist
};

}  // namespace chat
