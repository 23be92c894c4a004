// Keeps a benchmark (and the children it forks) on the CPU it started on,
// so that the phases it compares run on the same core and none migrates
// midway (standard practice; on the benchmark VM, whose vCPUs differ in
// speed from minute to minute, it removes that source of noise, not the
// host's own drift).
#pragma once

#include <fmt/format.h>
#include <sched.h>

namespace gw::bench {

// Prints "pinned to CPU N"; nothing (and nothing changed) when the CPU is
// unknown or the affinity cannot be set.
inline void pin_to_current_cpu() {
  const int cpu = sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return;
  fmt::print("pinned to CPU {}\n", cpu);
}

}  // namespace gw::bench
