#include "ghostwatch/ingest/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

namespace gw {

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Status LineReader::open(const std::string& path, std::size_t buffer_bytes) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    owns_fd_ = true;
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  buffer_.resize(buffer_bytes + simdjson::SIMDJSON_PADDING);
  return Status::ok();
}

bool LineReader::refill() {
  // Move the partial line to the front, growing the buffer when it is full.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t usable = buffer_.size() - simdjson::SIMDJSON_PADDING;
  if (end_ == usable) buffer_.resize(usable * 2 + simdjson::SIMDJSON_PADDING);
  const std::size_t room = buffer_.size() - simdjson::SIMDJSON_PADDING - end_;
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.data() + end_, room);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    status_ = Status::error(fmt::format("cannot read the events: {}", std::strerror(errno)));
    eof_ = true;
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  bytes_read_ += static_cast<std::uint64_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line, std::size_t& capacity) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start + scan_, '\n', end_ - begin_ - scan_);
    if (nl != nullptr || (eof_ && end_ > begin_)) {
      std::size_t len = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : end_ - begin_;
      begin_ += nl != nullptr ? len + 1 : len;
      scan_ = 0;
      ++line_number_;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      capacity = buffer_.size() - static_cast<std::size_t>(start - buffer_.data());
      return true;
    }
    if (eof_) return false;
    scan_ = end_ - begin_;
    refill();
  }
}

}  // namespace gw
