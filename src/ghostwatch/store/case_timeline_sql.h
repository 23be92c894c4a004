// The query behind Store::case_timeline, the same text for SQLite and
// PostgreSQL (SQLite reads `$1` as a parameter too): the case's own entries,
// the decisions of its linked episodes and their delivered e-mails, oldest
// first; ties in time keep that order (decisions 0, entries 1, e-mails 2)
// and then id order. Columns: at, kind, episode, author, text.
#pragma once

namespace gw {

inline constexpr const char* kCaseTimelineSql = R"sql(
WITH c AS (SELECT contract FROM cases WHERE id = $1),
     linked AS (SELECT DISTINCT episode FROM case_entries WHERE case_id = $1 AND kind = 'escalated')
SELECT at, kind, episode, author, text, 1 AS src, id FROM case_entries WHERE case_id = $1
UNION ALL
SELECT d.at, 'decision', d.episode, '', d.action || ' step ' || d.step || ' ' || d.status, 0, d.id
  FROM decisions d WHERE d.contract = (SELECT contract FROM c) AND d.episode IN (SELECT episode FROM linked)
UNION ALL
SELECT o.done_at, 'email_sent', d.episode, '', o.message_id, 2, d.id
  FROM outbox o JOIN decisions d ON d.id = o.decision_id
  WHERE o.channel = 'email' AND o.state = 'sent' AND d.contract = (SELECT contract FROM c)
    AND d.episode IN (SELECT episode FROM linked)
ORDER BY 1, 6, 7)sql";

}  // namespace gw
