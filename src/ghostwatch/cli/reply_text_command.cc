// `ghostwatch reply-text FILE [--plain]`: prints the part of an e-mail reply
// its sender wrote, without quoted history and signatures (docs/inbound.md).
// FILE is a raw RFC 5322 message (its first text part is used, or its HTML
// part turned into text), or with --plain a plain-text body; "-" reads
// standard input.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/inbound/mime_text.h"
#include "ghostwatch/inbound/reply_text.h"

namespace gw::cli {
namespace {

struct ReplyTextFlags {
  std::string file;
  bool plain = false;
};

Result<std::string> read_reply_input(const std::string& file) {
  std::ostringstream bytes;
  if (file == "-") {
    bytes << std::cin.rdbuf();
    if (std::cin.bad()) return Status::error("<stdin>: cannot read standard input");
    return bytes.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    return Status::error(fmt::format("{}: cannot read: is a directory", file));
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot open: {}", file, std::strerror(errno)));
  bytes << in.rdbuf();
  if (in.bad()) return Status::error(fmt::format("{}: cannot read: {}", file, std::strerror(errno)));
  return bytes.str();
}

int run_reply_text(const ReplyTextFlags& flags) {
  Result<std::string> input = read_reply_input(flags.file);
  if (!input) {
    print_command_error("reply-text", input.message());
    return kExitUsage;
  }
  std::string body;
  if (flags.plain) {
    body = std::move(*input);
  } else {
    Result<inbound::InboundMessage> message =
        inbound::read_inbound_message(*input, flags.file == "-" ? "<stdin>" : flags.file);
    if (!message) {
      print_command_error("reply-text", message.message());
      return kExitUsage;
    }
    body = std::move(message->text);
  }
  const std::string reply = inbound::visible_reply(body);
  fmt::print("{}{}", reply, reply.empty() ? "" : "\n");
  return kExitOk;
}

}  // namespace

void add_reply_text_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand(
      "reply-text", "Print the visible reply of an e-mail: no quoted history, quote headers or signatures");
  auto flags = std::make_shared<ReplyTextFlags>();
  cmd->add_option("FILE", flags->file, "A raw RFC 5322 message (or a plain-text body with --plain); - for stdin")
      ->required();
  cmd->add_flag("--plain", flags->plain, "FILE is a plain-text body, not a whole message");
  cmd->callback([flags, &exit_status] { exit_status = run_reply_text(*flags); });
}

}  // namespace gw::cli
