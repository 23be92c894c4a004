// One table of a TOML config file read key by key with the rules each key
// must follow: the first broken rule is kept, phrased
// "<source>: <section>.<key>: <rule>", and later reads are no-ops that
// return their fallback. The error string may be shared by several tables
// so that a file reports its first problem only. Not thread-safe.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"

namespace gw {

// Looks up an environment variable: std::getenv in the commands, a map in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment, for EnvLookup.
inline std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The table `name` of the TOML `text`: nullopt when the file has none; an
// error naming the file when the text is not TOML or `name` is not a table.
inline Result<std::optional<toml::table>> optional_table(std::string_view text, std::string_view source,
                                                         std::string_view name) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(source));
  } catch (const toml::parse_error& e) {
    return Status::error(fmt::format("{}: not valid TOML: {}", source, e.description()));
  }
  const toml::node* node = root.get(name);
  if (node == nullptr) return std::optional<toml::table>();
  if (!node->is_table()) return Status::error(fmt::format("{}: {}: must be a table", source, name));
  return std::optional<toml::table>(*node->as_table());
}

class ConfigTable {
 public:
  ConfigTable(const toml::table* table, std::string_view section, std::string_view source, std::string& error)
      : table_(table), section_(section), source_(source), error_(error) {}
  bool failed() const { return !error_.empty(); }
  void fail(std::string_view key, std::string_view rule) {
    if (!failed()) error_ = fmt::format("{}: {}.{}: {}", source_, section_, key, rule);
  }
  bool has(std::string_view key) const { return table_ != nullptr && table_->contains(key); }

  std::string string(std::string_view key, bool required, std::string fallback = "") {
    const toml::node* n = table_ == nullptr ? nullptr : table_->get(key);
    if (n == nullptr) {
      if (required) fail(key, "is required");
      return fallback;
    }
    if (!n->is_string()) {
      fail(key, "must be a string");
      return fallback;
    }
    return std::string(n->as_string()->get());
  }

  bool boolean(std::string_view key, bool fallback) {
    const toml::node* n = table_ == nullptr ? nullptr : table_->get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) {
      fail(key, "must be true or false");
      return fallback;
    }
    return n->as_boolean()->get();
  }

  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    const toml::node* n = table_ == nullptr ? nullptr : table_->get(key);
    if (n == nullptr) return fallback;
    if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max) {
      fail(key, fmt::format("must be a whole number from {} to {}", min, max));
      return fallback;
    }
    return n->as_integer()->get();
  }

  Duration duration(std::string_view key, Duration fallback) {
    if (!has(key)) return fallback;
    const std::string text = string(key, true);
    if (failed()) return fallback;
    const std::optional<Duration> d = parse_duration(text);
    if (!d || *d <= 0) {
      fail(key, fmt::format("must be a positive duration like \"10s\" or \"2m\", not \"{}\"", text));
      return fallback;
    }
    return *d;
  }

  // The variable named by `key`; its value must be set.
  std::optional<std::string> secret(std::string_view key, const EnvLookup& env) {
    const std::string name = string(key, true);
    if (failed()) return std::nullopt;
    std::optional<std::string> value = env(name);
    if (!value) fail(key, fmt::format("the environment variable {} is not set", name));
    return value;
  }

  void collect_unknown(std::span<const std::string_view> known, std::vector<std::string>& out) const {
    if (table_ == nullptr) return;
    for (const auto& [key, value] : *table_) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        out.push_back(fmt::format("{}.{}", section_, key.str()));
      }
    }
  }

 private:
  const toml::table* table_;
  std::string section_;
  std::string source_;
  std::string& error_;
};

}  // namespace gw
