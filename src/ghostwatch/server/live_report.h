// The experiment report (report/experiment.h) of the running campaign, from
// the live service's data instead of replay's files: the closed episodes in
// the store, the open ones in the engine (one consistent moment, as the
// episode export takes it), their decisions and the cases. The statistics
// are report/'s; this only reads the records into its input. Thread-safe:
// the service and the store serialise what they must.
#pragma once

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/report/experiment.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/store.h"

namespace gw {

// The report as `ghostwatch report --until data_end --cases` would compute
// it from an export taken now, under the policy in force.
Result<report::ExperimentReport> live_experiment(Service& service, Store& store, Instant data_end);

}  // namespace gw
