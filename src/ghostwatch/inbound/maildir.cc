#include "ghostwatch/inbound/maildir.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace gw::inbound {
namespace fs = std::filesystem;

Result<MaildirWatcher> MaildirWatcher::open(const std::string& dir, Intake& intake) {
  for (const char* sub : {"tmp", "new", "cur"}) {
    std::error_code ec;
    fs::create_directories(fs::path(dir) / sub, ec);
    if (ec) return Status::error(fmt::format("--inbound-maildir {}: cannot create {}/: {}", dir, sub, ec.message()));
  }
  return MaildirWatcher(dir, intake);
}

MaildirWatcher::Pass MaildirWatcher::run_once() {
  Pass pass;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "new", ec)) {
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
  }
  if (ec) {
    ++pass.failed;
    pass.last_error = fmt::format("{}/new: {}", dir_, ec.message());
    return pass;
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    if (in.is_open()) bytes << in.rdbuf();
    if (!in.is_open() || in.bad()) {
      ++pass.failed;
      pass.last_error = fmt::format("{}: cannot read it", file.string());
      continue;
    }
    auto taken = intake_->take(bytes.str(), file.filename().string());
    if (!taken) {
      ++pass.failed;
      pass.last_error = fmt::format("{}: {}", file.string(), taken.message());
      continue;
    }
    ++(taken->duplicate ? pass.duplicates : pass.taken);
    std::string name = file.filename().string();
    if (name.find(":2,") == std::string::npos) name += ":2,S";
    fs::rename(file, fs::path(dir_) / "cur" / name, ec);
    if (ec) {
      ++pass.failed;
      pass.last_error = fmt::format("{}: stored, but cannot move it to cur/: {}", file.string(), ec.message());
    }
  }
  return pass;
}

}  // namespace gw::inbound
