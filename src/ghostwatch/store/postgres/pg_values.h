// Multi-row statements for the PostgreSQL store: rows of SQL literals
// gathered and sent `rows_per_statement` at a time as `head` + the rows
// joined by commas + `tail`, so that a batch of many rows costs a few round
// trips instead of one each. Literals come from the transaction's quote(),
// so any text is safe. Throws what pqxx throws, like the rest of a write.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ghostwatch/core/time.h"

namespace gw::pg {

class StatementRows {
 public:
  StatementRows(pqxx::work& tx, std::string head, std::string tail = {}, std::size_t rows_per_statement = 500)
      : tx_(tx), head_(std::move(head)), tail_(std::move(tail)), per_statement_(rows_per_statement) {}
  StatementRows(const StatementRows&) = delete;
  StatementRows& operator=(const StatementRows&) = delete;

  // One row (e.g. "(1, 'a')" for VALUES, or "'a'" for an IN list).
  void add(std::string_view row) {
    if (rows_ > 0) rows_text_ += ',';
    rows_text_ += row;
    if (++rows_ == per_statement_) flush();
  }
  // Sends what add() gathered; call it once the last row is added.
  void flush() {
    if (rows_ == 0) return;
    tx_.exec0(head_ + rows_text_ + tail_);
    rows_text_.clear();
    rows_ = 0;
  }

  std::string text(std::string_view v) const { return tx_.quote(std::string(v)); }
  std::string text_or_null(const std::optional<std::string>& v) const { return v ? text(*v) : "NULL"; }
  static std::string instant_or_null(Instant at) { return at == kNoInstant ? "NULL" : std::to_string(at); }
  // A risk score: NULL when not scored (negative); a double that reads
  // back as the same float.
  static std::string risk_or_null(float risk) {
    return risk >= 0 ? fmt::format("{}", static_cast<double>(risk)) : "NULL";
  }
  static const char* boolean(bool b) { return b ? "TRUE" : "FALSE"; }

 private:
  pqxx::work& tx_;
  const std::string head_;
  const std::string tail_;
  const std::size_t per_statement_;
  std::string rows_text_;
  std::size_t rows_ = 0;
};

// Runs `select` + "(" + the quoted ids + ")" for each run of 500 of `ids`
// and calls `fn` with every row: a read of many ids in a few round trips.
template <typename Fn>
void select_by_ids(pqxx::transaction_base& tx, std::string_view select, const std::vector<std::string>& ids, Fn&& fn) {
  constexpr std::size_t kIdsPerQuery = 500;
  for (std::size_t from = 0; from < ids.size(); from += kIdsPerQuery) {
    std::string list;
    for (std::size_t i = from; i < ids.size() && i < from + kIdsPerQuery; ++i) {
      if (!list.empty()) list += ',';
      list += fmt::format("'{}'", tx.esc(ids[i]));
    }
    for (const auto& r : tx.exec(fmt::format("{}({})", select, list))) fn(r);
  }
}

}  // namespace gw::pg
