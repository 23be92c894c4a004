// Compact binary encoding for state written to disk (engine snapshots):
// fixed-width little-endian integers, LEB128 varints, zigzag varints for
// signed values, and length-prefixed byte strings.
//
// ByteReader never reads outside its input: a read past the end, or a
// varint longer than 10 bytes, marks the reader failed and returns zero
// (or an empty string), so a caller may read a whole record and check
// failed() once, as long as it validates every value before using it as an
// index. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { fixed(v, 4); }
  void u64(std::uint64_t v) { fixed(v, 8); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void zigzag(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void bytes(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  std::string& buffer() { return out_; }

 private:
  void fixed(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
  std::uint64_t u64() { return fixed(8); }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail();
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail();
  }
  std::int64_t zigzag() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  // A view into the input.
  std::string_view bytes() {
    const std::uint64_t n = varint();
    if (n > remaining()) {
      fail();
      return {};
    }
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items that take at least one byte each: one that the rest of
  // the input cannot hold fails the reader (and returns 0), so that a
  // corrupt count never sizes an allocation.
  std::uint64_t count() {
    const std::uint64_t n = varint();
    if (n > remaining()) return fail();
    return n;
  }

  bool failed() const { return failed_; }
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::uint64_t fixed(int n) {
    if (remaining() < static_cast<std::size_t>(n)) return fail();
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::uint64_t fail() {
    failed_ = true;
    pos_ = in_.size();
    return 0;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace gw
