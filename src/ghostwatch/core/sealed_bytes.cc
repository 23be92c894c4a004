#include "ghostwatch/core/sealed_bytes.h"

#include <fmt/format.h>
#include <xxhash.h>

namespace gw {
namespace {

constexpr std::size_t kChecksumBytes = 8;
constexpr std::size_t kVersionBytes = 4;

}  // namespace

ByteWriter begin_sealed(std::string_view magic, std::uint32_t version) {
  ByteWriter w;
  w.buffer().append(magic);
  w.u32(version);
  return w;
}

std::string seal(ByteWriter& w) {
  std::string& out = w.buffer();
  w.u64(XXH3_64bits(out.data(), out.size()));
  return std::move(out);
}

Result<SealedBody> open_sealed(std::string_view bytes, std::string_view magic, std::string_view what,
                               std::uint32_t oldest, std::uint32_t newest) {
  if (bytes.substr(0, magic.size()) != magic) {
    const std::string_view header = magic.substr(0, magic.find_first_of("\r\n"));
    return Status::error(fmt::format("not a {} (no {} header)", what, header));
  }
  if (bytes.size() < magic.size() + kVersionBytes + kChecksumBytes) {
    return Status::error(fmt::format("truncated: {} bytes", bytes.size()));
  }
  const std::size_t checked = bytes.size() - kChecksumBytes;
  ByteReader body(bytes.substr(magic.size(), checked - magic.size()));
  const std::uint32_t version = body.u32();
  if (version < oldest || version > newest) {
    return Status::error(
        oldest == newest
            ? fmt::format("format version {}, and this build reads version {} only", version, newest)
            : fmt::format("format version {}, and this build reads versions {} to {} only", version, oldest, newest));
  }
  if (ByteReader(bytes.substr(checked)).u64() != XXH3_64bits(bytes.data(), checked)) {
    return Status::error("corrupt or truncated: its checksum does not match its contents");
  }
  return SealedBody{version, body};
}

}  // namespace gw
