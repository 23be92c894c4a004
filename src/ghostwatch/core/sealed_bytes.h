// A versioned, checksummed envelope for state written to disk (service and
// risk feature store snapshots): a magic line, a u32 format version, the
// body (byte_codec.h's encodings), then the XXH3-64 of everything before it.
//
// open_sealed hands out the body only when the magic, the length, the
// version range and the checksum all hold; otherwise its error says which
// did not, for the caller to prefix with what the bytes were to be.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/core/byte_codec.h"
#include "ghostwatch/core/status.h"

namespace gw {

// A writer that holds `magic` and `version`: append the body, then seal().
ByteWriter begin_sealed(std::string_view magic, std::uint32_t version);
// Appends the checksum to `w`'s bytes and returns them.
std::string seal(ByteWriter& w);

struct SealedBody {
  std::uint32_t version = 0;
  ByteReader body;  // everything between the version and the checksum
};
// `bytes` as begin_sealed/seal wrote them with `magic` and a version in
// [oldest, newest]. `what` names the content in the error of bytes without
// the magic ("not a <what> (no <magic> header)").
Result<SealedBody> open_sealed(std::string_view bytes, std::string_view magic, std::string_view what,
                               std::uint32_t oldest, std::uint32_t newest);

}  // namespace gw
