// The simulator's output buffer. Lines are formatted in place with
// unchecked writes: the buffer is flushed once it holds kFlushBytes, which
// leaves kRoom bytes for the next line, far more than any line (a bad line
// and the event after it) needs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace gw::sim {

class LineBuffer {
 public:
  static constexpr std::size_t kFlushBytes = 1 << 20;
  static constexpr std::size_t kRoom = 64 << 10;

  LineBuffer() : data_(kFlushBytes + kRoom), p_(data_.data()) {}

  template <std::size_t N>
  void lit(const char (&s)[N]) {  // a literal: its length is a constant
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void put(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void put(char c) { *p_++ = c; }

  void put_uint(std::uint64_t v, int min_width = 0) {
    int n = 1;
    for (std::uint64_t rest = v / 10; rest != 0; rest /= 10) ++n;
    n = std::max(n, min_width);
    char* q = p_ + n;
    p_ = q;
    for (int i = 0; i < n; ++i) {
      *--q = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  }

  void put_two_digits(unsigned v) {
    p_[0] = static_cast<char>('0' + v / 10);
    p_[1] = static_cast<char>('0' + v % 10);
    p_ += 2;
  }

  std::size_t size() const { return static_cast<std::size_t>(p_ - data_.data()); }
  void truncate(std::size_t n) { p_ = data_.data() + n; }
  char& operator[](std::size_t i) { return data_[i]; }
  char& back() { return p_[-1]; }
  std::string_view view() const { return {data_.data(), size()}; }
  bool full() const { return size() >= kFlushBytes; }
  void clear() { p_ = data_.data(); }

 private:
  std::vector<char> data_;
  char* p_;
};

}  // namespace gw::sim
