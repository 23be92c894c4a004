// Zendesk as a CaseMirror target (the `[zendesk]` table of the config):
// each case is one Zendesk ticket, found by external_id
// "ghostwatch-case-<id>" (so a change retried after a crash never makes a
// second ticket) and created by the case's first change: subject, an
// internal comment with the context, the team's group (`[zendesk.groups]`
// maps team names to group ids), the client as requester when they have an
// e-mail address, tags "ghostwatch" and "team-<team>". Later changes update
// it through the Tickets API: a status change sets the ticket's status
// (new, open, pending, solved are Zendesk's too), an outcome adds the tag
// "outcome-<outcome>", and every change adds an internal comment (notes
// with their author). API-token authentication (`email` + the token from
// the variable named by `token_env`). Answers count as http_outcome says.
// Thread-compatible: one mirror thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/config_table.h"
#include "ghostwatch/store/store.h"
#include "ghostwatch/tickets/case_mirror.h"

namespace gw {

struct ZendeskSettings {
  std::string url;                             // https://<subdomain>.zendesk.com
  std::string email;                           // the API user's address
  std::string token;                           // the value of the variable named by `token_env`
  std::map<std::string, std::int64_t> groups;  // team -> group id
  Duration timeout = 10 * kSecond;
  RetrySettings retry;
};

// The `[zendesk]` table of `text`, nullopt when there is none; errors name
// the file and key.
Result<std::optional<ZendeskSettings>> parse_zendesk_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys = nullptr);

class ZendeskTarget {
 public:
  // `store` (the client's contact details) must outlive the target.
  ZendeskTarget(Store& store, ZendeskSettings settings) : store_(store), settings_(std::move(settings)) {}
  MirrorResult operator()(const CaseChange& change, const std::optional<CaseRow>& kase);

 private:
  Store& store_;
  ZendeskSettings settings_;
  std::map<std::int64_t, std::int64_t> tickets_;  // case id -> ticket id, as found or made
};

}  // namespace gw
