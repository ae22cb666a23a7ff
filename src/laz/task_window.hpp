#pragma once
// A bounded window of jobs (chunk decodes or encodes) run by oneTBB workers, consumed by
// the calling thread strictly in submission order. While the caller waits for the oldest
// job it runs jobs no worker has started yet, so `threads` threads are busy in all: the
// caller plus threads - 1 workers.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

namespace lidarmill::laz {

class TaskWindow {
  public:
    // threads <= 1: every job runs inside push(), on the calling thread.
    explicit TaskWindow(unsigned threads);
    ~TaskWindow();  // waits for jobs already started
    TaskWindow(const TaskWindow&) = delete;
    TaskWindow& operator=(const TaskWindow&) = delete;

    std::size_t size() const { return jobs_.size(); }
    bool empty() const { return jobs_.empty(); }
    // Queues `work` behind the jobs already in the window.
    void push(std::function<void()> work);
    bool front_done() const;
    // Waits for the oldest job (helping with unstarted ones), removes it and rethrows
    // what it threw.
    void pop_front();

  private:
    struct Job {
        std::function<void()> work;
        std::atomic<bool> claimed{false};
        std::atomic<bool> done{false};
        std::exception_ptr error;
    };
    void run(Job& job);

    std::deque<std::shared_ptr<Job>> jobs_;
    std::unique_ptr<tbb::task_arena> arena_;
    std::unique_ptr<tbb::task_group> group_;  // destructor may throw: by pointer
    std::mutex mutex_;
    std::condition_variable finished_;
};

}  // namespace lidarmill::laz
