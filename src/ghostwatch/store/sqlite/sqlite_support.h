// Small helpers shared by the SQLite store's files: a column's bytes as a
// string, and a caught exception as the store's Status.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <exception>
#include <string>

#include "ghostwatch/core/status.h"

namespace gw::sqlite_support {

// A TEXT or BLOB column's bytes (embedded NULs kept).
inline std::string column_text(const SQLite::Column& c) {
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<std::size_t>(c.getBytes()));
}

// "store: <what>: <the exception's message>".
inline Status failure(const char* what, const std::exception& e) {
  return Status::error(fmt::format("store: {}: {}", what, e.what()));
}

}  // namespace gw::sqlite_support
