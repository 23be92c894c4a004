// The `[bus]` table of the config: where the event log lives (NATS
// JetStream) and how it is cut into partitions (docs/operations.md,
// "Scaling out: the event log").
//
//   [bus]
//   url = "nats://127.0.0.1:4222"      # comma-separated servers allowed
//   stream = "GHOSTWATCH_EVENTS"       # the JetStream stream
//   partitions = 16                    # subjects ghostwatch.events.0 .. 15
//   replicas = 1                       # 1, or 3 on a three-node cluster
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::bus {

struct BusSettings {
  std::string url;  // one or more nats:// URLs, comma-separated
  std::string stream = "GHOSTWATCH_EVENTS";
  std::uint32_t partitions = 16;
  int replicas = 1;
};

// The `[bus]` table of `text`, nullopt when there is none; errors name the
// file and key ("policy.toml: bus.partitions: ..."). Keys it does not know
// are added to `unknown_keys` as "bus.<key>".
Result<std::optional<BusSettings>> parse_bus_config(std::string_view text, std::string_view source,
                                                    std::vector<std::string>* unknown_keys = nullptr);

// The bus a command runs with: the `[bus]` table, its url replaced by
// `flag_url` (`--bus`) when that is not empty; defaults with that url when
// there is no table; nullopt when neither names a bus.
Result<std::optional<BusSettings>> bus_settings(std::string_view text, std::string_view source,
                                                const std::string& flag_url,
                                                std::vector<std::string>* unknown_keys = nullptr);

// What is wrong with a `--bus` value (or `url`), nullopt when every
// comma-separated part is a nats://HOST:PORT URL.
std::optional<std::string> bus_url_problem(std::string_view url);

}  // namespace gw::bus
