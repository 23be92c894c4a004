// `ghostwatch migrate --store URL`: brings a store's schema up to date and
// says where it stands, so an upgrade can migrate before the workers start
// (serve migrates at start too; docs/operations.md).
#include <memory>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/store/open_store.h"

namespace gw::cli {

void add_migrate_command(CLI::App& app, int& exit_status) {
  auto spec = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("migrate", "Bring a store's schema up to date (serve does it at start too)");
  cmd->add_option("--store", *spec, "sqlite:PATH or postgres://USER@HOST/DB")->required();
  cmd->callback([spec, &exit_status] {
    auto opened = open_store(*spec);
    if (!opened) {
      print_command_error("migrate", opened.message());
      exit_status = kExitUsage;
      return;
    }
    if (opened->schema_version > 0) {
      fmt::print("{}: schema at version {}, up to date\n", opened->description, opened->schema_version);
    } else {
      fmt::print("{}: schema up to date\n", opened->description);
    }
    exit_status = kExitOk;
  });
}

}  // namespace gw::cli
