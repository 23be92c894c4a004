// `ghostwatch import`: converts a real message history (a SNAP temporal
// edge list or the Enron tables) into NDJSON events, each pair of
// correspondents a contract (ghostwatch/import/message_history.h).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/import/message_history.h"

namespace gw::cli {
namespace {

struct ImportArgs {
  std::string format;
  std::string input;
  std::string out;
  std::string origin = "1970-01-01T00:00:00Z";
};

int run_import(const ImportArgs& args) {
  const std::optional<Instant> origin = parse_rfc3339(args.origin);
  if (!origin) {
    print_command_error("import", "--origin: must be an RFC 3339 timestamp, not \"" + args.origin + "\"");
    return kExitUsage;
  }
  auto messages =
      args.format == "snap" ? import::read_snap_edges(args.input, *origin) : import::read_enron_tables(args.input);
  if (!messages) {
    print_command_error("import", messages.message());
    return kExitUsage;
  }
  AtomicFile file;
  if (Status s = file.open(args.out); !s) {
    print_command_error("import", s.message());
    return kExitUsage;
  }
  const import::ImportStats stats = import::write_contract_events(std::move(*messages), [&file](std::string_view s) {
    file.buffer().append(s);
    file.maybe_flush();
  });
  if (Status s = file.commit(); !s) {
    print_command_error("import", s.message());
    return kExitFailure;
  }
  fmt::print(stderr, "ghostwatch import: {} messages ({} to oneself skipped), {} users, {} contracts\n", stats.messages,
             stats.self_messages, stats.users, stats.contracts);
  return kExitOk;
}

}  // namespace

void add_import_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand("import", "Convert a real message history into NDJSON events");
  auto args = std::make_shared<ImportArgs>();
  cmd->add_option(
         "--format", args->format,
         "snap (\"SRC DST T\" lines, fields separated by spaces, tabs or commas; plain or gzip) or enron (a directory)")
      ->required()
      ->check(CLI::IsMember({"snap", "enron"}));
  cmd->add_option("--input", args->input, "The edge file (snap) or the directory of the .tsv tables (enron)")
      ->required();
  cmd->add_option("--out", args->out, "Where to write the events (NDJSON)")->required();
  cmd->add_option("--origin", args->origin, "The instant of T = 0 in a snap file (RFC 3339)")->capture_default_str();
  cmd->callback([args, &exit_status] { exit_status = run_import(*args); });
}

}  // namespace gw::cli
