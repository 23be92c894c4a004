#include "ghostwatch/bus/bus_config.h"

#include <fmt/format.h>

#include "ghostwatch/core/config_table.h"

namespace gw::bus {
namespace {

constexpr std::string_view kBusKeys[] = {"url", "stream", "partitions", "replicas"};

// JetStream stream names: no spaces, dots, wildcards or path separators.
bool is_stream_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (c <= ' ' || c == '.' || c == '*' || c == '>' || c == '/' || c == '\\' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> bus_url_problem(std::string_view url) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = url.find(',', start);
    const std::string_view part = url.substr(start, comma == std::string_view::npos ? url.npos : comma - start);
    const std::string_view host = part.rfind("nats://", 0) == 0 ? part.substr(7) : std::string_view();
    if (host.empty() || host.find_first_of(" /") != std::string_view::npos) {
      return fmt::format("expected nats://HOST:PORT (comma-separated for several servers), not \"{}\"", part);
    }
    if (comma == std::string_view::npos) return std::nullopt;
    start = comma + 1;
  }
}

namespace {

// The [bus] table; `flag_url`, when not empty, is the url (the table's is then optional and ignored).
Result<std::optional<BusSettings>> parse_bus_table(std::string_view text, std::string_view source,
                                                   const std::string& flag_url,
                                                   std::vector<std::string>* unknown_keys) {
  auto table = optional_table(text, source, "bus");
  if (!table) return table.status();
  if (!table->has_value()) return std::optional<BusSettings>();
  std::string error;
  ConfigTable t(&**table, "bus", source, error);
  BusSettings b;
  b.url = t.string("url", flag_url.empty());
  if (auto problem = t.failed() || !flag_url.empty() ? std::nullopt : bus_url_problem(b.url)) t.fail("url", *problem);
  if (!flag_url.empty()) b.url = flag_url;
  b.stream = t.string("stream", false, b.stream);
  if (!t.failed() && !is_stream_name(b.stream)) {
    t.fail("stream", fmt::format("\"{}\" is not a JetStream stream name (no spaces, dots, *, > or slashes)", b.stream));
  }
  b.partitions = static_cast<std::uint32_t>(t.integer("partitions", b.partitions, 1, 4096));
  b.replicas = static_cast<int>(t.integer("replicas", b.replicas, 1, 5));
  if (!t.failed() && b.replicas != 1 && b.replicas != 3 && b.replicas != 5) {
    t.fail("replicas", "must be 1, 3 or 5 (an odd number of copies, one per JetStream server)");
  }
  if (t.failed()) return Status::error(error);
  if (unknown_keys != nullptr) t.collect_unknown(kBusKeys, *unknown_keys);
  return std::optional<BusSettings>(std::move(b));
}

}  // namespace

Result<std::optional<BusSettings>> bus_settings(std::string_view text, std::string_view source,
                                                const std::string& flag_url, std::vector<std::string>* unknown_keys) {
  if (!flag_url.empty()) {
    if (auto problem = bus_url_problem(flag_url)) return Status::error("--bus: " + *problem);
  }
  auto settings = parse_bus_table(text, source, flag_url, unknown_keys);
  if (!settings || settings->has_value() || flag_url.empty()) return settings;
  BusSettings defaults;
  defaults.url = flag_url;
  return std::optional<BusSettings>(std::move(defaults));
}

Result<std::optional<BusSettings>> parse_bus_config(std::string_view text, std::string_view source,
                                                    std::vector<std::string>* unknown_keys) {
  return parse_bus_table(text, source, "", unknown_keys);
}

}  // namespace gw::bus
