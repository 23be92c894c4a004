// ghostwatch: the composition root. Parses the command line and runs one
// subcommand; see commands.h.
#include <exception>
#include <iostream>

#include "ghostwatch/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"ghostwatch: an anti-ghosting engine for two-sided marketplaces"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ghostwatch 0.1.0");
  int exit_status = gw::cli::kExitOk;
  gw::cli::add_replay_command(app, exit_status);
  gw::cli::add_simulate_command(app, exit_status);
  gw::cli::add_serve_command(app, exit_status);
  gw::cli::add_preview_command(app, exit_status);
  gw::cli::add_report_command(app, exit_status);
  gw::cli::add_reply_text_command(app, exit_status);
  gw::cli::add_migrate_command(app, exit_status);
  gw::cli::add_train_command(app, exit_status);
  gw::cli::add_score_command(app, exit_status);
  gw::cli::add_import_command(app, exit_status);
  gw::cli::add_publish_command(app, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return gw::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "ghostwatch: error: " << e.what() << "\n";
    return gw::cli::kExitFailure;
  }
  return exit_status;
}
