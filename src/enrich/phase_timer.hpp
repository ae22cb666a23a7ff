#pragma once
// CPU and wall time of the pipeline's phases, for the debug log. CPU time says where the
// work goes even on a shared machine; CPU over wall time is how well a phase keeps the
// cores busy.
#include <time.h>

namespace lidarmill::enrich {

// Adds the lifetime of the object to a phase total.
class PhaseTimer {
  public:
    struct Totals {
        double cpu = 0, wall = 0;
    };
    explicit PhaseTimer(Totals& totals)
        : totals_(totals),
          cpu_start_(seconds(CLOCK_PROCESS_CPUTIME_ID)),
          wall_start_(seconds(CLOCK_MONOTONIC)) {}
    ~PhaseTimer() {
        totals_.cpu += seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start_;
        totals_.wall += seconds(CLOCK_MONOTONIC) - wall_start_;
    }
    PhaseTimer(const PhaseTimer&) = delete;
    PhaseTimer& operator=(const PhaseTimer&) = delete;

  private:
    static double seconds(clockid_t clock) {
        timespec t{};
        ::clock_gettime(clock, &t);
        return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    }
    Totals& totals_;
    double cpu_start_, wall_start_;
};

}  // namespace lidarmill::enrich
