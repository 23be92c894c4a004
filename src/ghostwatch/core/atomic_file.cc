#include "ghostwatch/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace gw {

AtomicFile::~AtomicFile() { discard(); }

Status AtomicFile::open(const std::string& path) {
  path_ = path;
  temp_path_.clear();
  buffer_.reserve(kBufferBytes + 4096);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::error(fmt::format("{}: cannot open the output: {}", path, std::strerror(errno)));
    return Status::ok();
  }
  std::vector<char> tmpl(path.begin(), path.end());
  const std::string suffix = ".tmp-XXXXXX";
  tmpl.insert(tmpl.end(), suffix.begin(), suffix.end());
  tmpl.push_back('\0');
  fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd_ < 0) return Status::error(fmt::format("{}: cannot create the output file: {}", path, std::strerror(errno)));
  ::fchmod(fd_, 0644);
  temp_path_ = tmpl.data();
  return Status::ok();
}

void AtomicFile::write(std::string_view bytes) {
  buffer_.append(bytes);
  maybe_flush();
}

void AtomicFile::flush() {
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0 && write_errno_ == 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno != EINTR) write_errno_ = errno;
      continue;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

Status AtomicFile::commit() {
  if (fd_ < 0) return Status::error(fmt::format("{}: not open", path_));
  flush();
  if (write_errno_ == 0 && !temp_path_.empty() && ::fsync(fd_) != 0) write_errno_ = errno;
  if (write_errno_ != 0) {
    Status s = Status::error(fmt::format("{}: cannot write: {}", path_, std::strerror(write_errno_)));
    discard();
    return s;
  }
  ::close(fd_);
  fd_ = -1;
  if (temp_path_.empty()) return Status::ok();
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Status s = Status::error(fmt::format("{}: cannot rename the finished file into place: {}", path_, std::strerror(errno)));
    ::unlink(temp_path_.c_str());
    return s;
  }
  return Status::ok();
}

void AtomicFile::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  buffer_.clear();
}

}  // namespace gw
