// An output file that appears under its final name only when complete: bytes
// go to a temporary file beside it, which commit() flushes and renames over
// the final name. A file never committed (error, --strict stop, crash) leaves
// nothing under the final name and its temporary file is removed when the
// object is destroyed. A path that is not a regular file (/dev/null,
// /dev/stdout, a FIFO) is written directly: renaming over it would replace
// the device with a file. Writes are buffered. Not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "ghostwatch/core/status.h"

namespace gw {

class AtomicFile {
 public:
  // Small enough to stay in a core's L2 cache between two flushes (a
  // replay fills three while its tables evict everything else).
  static constexpr std::size_t kBufferBytes = 256 << 10;

  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status open(const std::string& path);
  bool is_open() const { return fd_ >= 0; }
  // Appends bytes; errors are reported by commit().
  void write(std::string_view bytes);
  // The pending output buffer, for writers that format in place; call
  // maybe_flush() after appending.
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kBufferBytes) flush();
  }
  Status commit();
  void discard();

 private:
  void flush();

  std::string path_;
  std::string temp_path_;  // empty: writing `path_` directly
  int fd_ = -1;
  int write_errno_ = 0;
  std::string buffer_;
};

}  // namespace gw
