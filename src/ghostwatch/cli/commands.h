// Subcommands of the `ghostwatch` binary. Each add_*_command registers its
// options on `app`; when the subcommand is chosen and parsed, its callback
// runs the command and stores the process exit status in `exit_status`.
// main.cc is the composition root that names them all.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

namespace gw::cli {

// Exit statuses shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an unexpected runtime failure
inline constexpr int kExitUsage = 2;    // bad config, unreadable file, strict reject, bad flags

// "ghostwatch <command>: error: <message>" on stderr.
inline void print_command_error(std::string_view command, std::string_view message) {
  fmt::print(stderr, "ghostwatch {}: error: {}\n", command, message);
}

void add_replay_command(CLI::App& app, int& exit_status);
void add_simulate_command(CLI::App& app, int& exit_status);
void add_serve_command(CLI::App& app, int& exit_status);
void add_preview_command(CLI::App& app, int& exit_status);
void add_report_command(CLI::App& app, int& exit_status);
void add_reply_text_command(CLI::App& app, int& exit_status);
void add_migrate_command(CLI::App& app, int& exit_status);
void add_train_command(CLI::App& app, int& exit_status);
void add_score_command(CLI::App& app, int& exit_status);
void add_import_command(CLI::App& app, int& exit_status);
void add_publish_command(CLI::App& app, int& exit_status);

}  // namespace gw::cli
