// Support cases: what an escalation opens for a team (the decision's
// target, e.g. "improving-outcomes") to work with the client, who may need
// a new freelancer. A contract has at most one case per team: the first
// escalation opens it (status `new`), a later escalation of the same
// contract reopens it (`open` again if it was `pending` or `solved`) and
// links the new episode in its timeline. An episode's escalation is taken
// once: a retry after a crash finds its case and changes nothing.
// E-mail from a freelancer about no open episode opens a case about no
// contract (`contract` empty): at most one per freelancer and team.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw {

enum class CaseStatus : std::uint8_t { kNew, kOpen, kPending, kSolved };
enum class CaseOutcome : std::uint8_t { kNone, kFreelancerResponded, kFreelancerReplaced, kClientWithdrew, kNoAction };

std::string_view case_status_name(CaseStatus s);    // "new", "open", "pending", "solved"
std::string_view case_outcome_name(CaseOutcome o);  // "" for kNone, else e.g. "freelancer_replaced"
std::optional<CaseStatus> parse_case_status(std::string_view name);
std::optional<CaseOutcome> parse_case_outcome(std::string_view name);  // "" is kNone

struct CaseRow {
  std::int64_t id = 0;
  std::string team;
  std::string contract;
  std::uint32_t episode = 0;  // the latest escalated episode
  std::string freelancer;
  std::string client;
  CaseStatus status = CaseStatus::kNew;
  CaseOutcome outcome = CaseOutcome::kNone;
  std::string assignee;  // empty: nobody yet
  Instant opened_at = 0;
  Instant updated_at = 0;
};

// One line of a case's timeline. Kinds: "escalated" (an episode's
// escalation opened or reopened the case), "decision" (a step decided for
// a linked episode; text like "nudge step 1 sent"), "email_sent" (a
// reminder of a linked episode delivered; text: its Message-ID), "status",
// "outcome", "assignee" (a change; text: the new value), "note",
// "email_in" (an e-mail received; author: its sender's address, text: the
// visible reply), "auto_reply" (the same for an automatic reply, which is
// not a person answering).
struct CaseEntry {
  Instant at = 0;
  std::string kind;
  std::uint32_t episode = 0;  // 0: not about one episode
  std::string author;         // who made a change or wrote a note; may be empty
  std::string text;
};

// A timeline entry as a change to mirror elsewhere (ticket systems): the
// case's own entries (escalated, status, outcome, assignee, note) in the
// order they were made; `id` increases.
struct CaseChange {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  CaseEntry entry;
};

struct CaseQuery {
  std::string contract;  // empty: any
  std::string team;
  std::string freelancer;
  std::string client;
  std::optional<CaseStatus> status;
  std::string assignee;
  std::int64_t after_id = 0;  // page cursor: cases with a larger id
  std::size_t limit = 100;
};

// The case an inbound e-mail joins: `case_id` when known, else the case of
// (contract, team), or with no contract the freelancer's case of the team,
// opened (status `new`) when there is none.
struct CaseTarget {
  std::int64_t case_id = 0;
  std::string team;
  std::string contract;  // empty: a case about no contract
  std::uint32_t episode = 0;
  std::string freelancer;
  std::string client;
};

// A change to a case; fields left empty stay as they are.
struct CaseUpdate {
  std::optional<CaseStatus> status;
  std::optional<CaseOutcome> outcome;
  std::optional<std::string> assignee;  // "" unassigns
  std::string author;
};

}  // namespace gw
