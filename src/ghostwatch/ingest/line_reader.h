// Streams a file (or standard input) line by line through one reused buffer
// with simdjson padding after every line's bytes, so lines can be parsed in
// place without a copy. A line is returned without its '\n' and without one
// trailing '\r'. Lines longer than the buffer grow it. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw {

class LineReader {
 public:
  static constexpr std::size_t kDefaultBufferBytes = 4 << 20;

  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path`, or standard input for "-".
  Status open(const std::string& path, std::size_t buffer_bytes = kDefaultBufferBytes);

  // Returns false at the end of input (or on a read error: see status()).
  // `line` stays valid, with at least `padding()` readable bytes after it,
  // until the next call. `capacity` is the readable size from line.data().
  bool next(std::string_view& line, std::size_t& capacity);

  // 1-based number of the line last returned.
  std::uint64_t line_number() const { return line_number_; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  const Status& status() const { return status_; }

 private:
  bool refill();

  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // start of unread bytes
  std::size_t end_ = 0;    // end of valid bytes
  std::size_t scan_ = 0;   // bytes from begin_ known to hold no '\n'
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
  Status status_ = Status::ok();
};

}  // namespace gw
