#include "laz/task_window.hpp"

namespace lidarmill::laz {

TaskWindow::TaskWindow(unsigned threads) {
    if (threads > 1) {
        // One slot stays reserved for the calling thread, so its brief visits (enqueue,
        // final wait) never have to queue behind a worker busy with a whole chunk.
        arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(threads), 1);
        group_ = std::make_unique<tbb::task_group>();
    }
}

TaskWindow::~TaskWindow() {
    if (!arena_) return;
    // Jobs not started yet are claimed here so that workers skip them.
    for (auto& job : jobs_) job->claimed.exchange(true);
    arena_->execute([this] { group_->wait(); });
}

void TaskWindow::push(std::function<void()> work) {
    auto job = std::make_shared<Job>();
    job->work = std::move(work);
    jobs_.push_back(job);
    if (!arena_) {
        run(*job);
        return;
    }
    arena_->enqueue(group_->defer([this, job] { run(*job); }));
}

bool TaskWindow::front_done() const {
    return !jobs_.empty() && jobs_.front()->done.load(std::memory_order_acquire);
}

void TaskWindow::pop_front() {
    const std::shared_ptr<Job> front = jobs_.front();
    for (auto& job : jobs_) {
        if (front->done.load(std::memory_order_acquire)) break;
        run(*job);  // returns at once for a job a worker has claimed
    }
    {
        std::unique_lock lock(mutex_);
        finished_.wait(lock, [&] { return front->done.load(std::memory_order_acquire); });
    }
    jobs_.pop_front();
    if (front->error) std::rethrow_exception(front->error);
}

void TaskWindow::run(Job& job) {
    if (job.claimed.exchange(true)) return;
    try {
        job.work();
    } catch (...) {
        job.error = std::current_exception();
    }
    {
        // Set under the lock so that a waiter cannot miss the notification.
        std::lock_guard lock(mutex_);
        job.done.store(true, std::memory_order_release);
    }
    finished_.notify_all();
}

}  // namespace lidarmill::laz
