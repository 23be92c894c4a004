#include "ghostwatch/store/open_store.h"

#include <fmt/format.h>

#include "ghostwatch/store/postgres/pg_schema.h"
#include "ghostwatch/store/postgres/postgres_store.h"
#include "ghostwatch/store/sqlite/sqlite_store.h"

namespace gw {
namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// The URI with the password of its user part (user:password@) hidden.
std::string without_password(const std::string& uri) {
  const std::size_t scheme = uri.find("://");
  const std::size_t at = uri.find('@', scheme == std::string::npos ? 0 : scheme);
  if (scheme == std::string::npos || at == std::string::npos) return uri;
  const std::size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":***" + uri.substr(at);
}

}  // namespace

Result<OpenedStore> open_store(const std::string& spec) {
  if (starts_with(spec, "sqlite:")) {
    auto store = SqliteStore::open(spec.substr(7));
    if (!store) return store.status();
    return OpenedStore{std::move(*store), spec.substr(7), 0};
  }
  if (starts_with(spec, "postgres://") || starts_with(spec, "postgresql://")) {
    auto store = PostgresStore::open(spec);
    if (!store) return store.status();
    return OpenedStore{std::move(*store), without_password(spec), pg::latest_schema_version()};
  }
  return Status::error(fmt::format("--store: expected sqlite:PATH or postgres://..., not \"{}\"", spec));
}

}  // namespace gw
