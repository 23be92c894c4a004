// The cases and inbound e-mail parts of PostgresStore (store.h, cases.h,
// inbound.h): the same rules as the SQLite store's sqlite_cases and
// sqlite_inbound, as SQL run in the caller's transaction. Errors throw; the
// store turns them into a Status and rolls the transaction back.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ghostwatch/store/cases.h"
#include "ghostwatch/store/inbound.h"
#include "ghostwatch/store/rows.h"

namespace gw::pg {

std::int64_t take_escalation(pqxx::work& tx, const OutboxItem& item, Instant now, bool client_checkin);
std::vector<CaseRow> list_cases(pqxx::transaction_base& tx, const CaseQuery& q);
std::optional<CaseRow> find_case(pqxx::transaction_base& tx, std::int64_t id);
std::vector<CaseEntry> case_timeline(pqxx::transaction_base& tx, std::int64_t id);
std::vector<CaseChange> case_changes(pqxx::transaction_base& tx, std::int64_t after_id, std::size_t limit);
bool update_case(pqxx::work& tx, std::int64_t id, const CaseUpdate& u, Instant now);
bool add_case_note(pqxx::work& tx, std::int64_t id, const std::string& author, const std::string& text, Instant now);

std::optional<InboundRow> find_inbound_by_key(pqxx::transaction_base& tx, const std::string& key);
InboundTaken take_inbound(pqxx::work& tx, const InboundRow& row, const CaseTarget* target, Instant now);
std::vector<InboundRow> list_inbound(pqxx::transaction_base& tx, const InboundQuery& q);
std::optional<InboundRow> find_inbound(pqxx::transaction_base& tx, std::int64_t id);
AttachResult attach_inbound(pqxx::work& tx, std::int64_t id, std::int64_t case_id, const std::string& author,
                            Instant now);

}  // namespace gw::pg
