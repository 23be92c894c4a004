#include "ghostwatch/server/live_report.h"

#include <utility>
#include <vector>

namespace gw {
namespace {

report::ReportEpisode live_report_episode(const EpisodeRow& r) {
  report::ReportEpisode e;
  e.contract = r.contract;
  e.episode = r.episode;
  e.freelancer = r.freelancer;
  e.arm = r.arm;
  e.in_segment = r.in_segment;
  e.opened_at = r.opened_at;
  e.closed_at = r.closed_at;
  e.outcome = r.outcome == Outcome::kReplied         ? report::Outcome::kReplied
              : r.outcome == Outcome::kContractEnded ? report::Outcome::kContractEnded
                                                     : report::Outcome::kOpen;
  if (r.has_end_reason) e.reason = r.end_reason;
  return e;
}

}  // namespace

Result<report::ExperimentReport> live_experiment(Service& service, Store& store, Instant data_end) {
  report::ReportInputBuilder builder;
  Status added = Status::ok();
  EpisodeQuery episodes;
  Service::EpisodeSnapshot snap = service.episode_snapshot(episodes);
  episodes.through_id = snap.closed_through;
  Status read = store.export_episodes(episodes, [&](const EpisodeRow& r) {
    if (added) added = builder.add_episode(live_report_episode(r));
  });
  if (!read) return read;
  for (const EpisodeRow& r : snap.open) {
    if (added) added = builder.add_episode(live_report_episode(r));
  }
  if (!added) return added;
  // Decisions committed after the snapshot may belong to an episode that
  // opened after it: they are not part of this moment, and are left out.
  read = store.export_decisions(DecisionQuery{}, [&](const DecisionRow& d) {
    (void)builder.add_decision(d.contract, d.episode, d.at, d.action == StepAction::kEscalate,
                               d.status == DecisionStatus::kSent);
  });
  if (!read) return read;

  report::ReportOptions options = report::report_options_for(service.policy());
  if (data_end != kNoInstant) options.until = data_end;
  const report::ReportInput input = builder.take();
  report::ExperimentReport result = report::compute_experiment(input, options);

  std::vector<report::ReportCase> cases;
  CaseQuery q;
  q.limit = 1000;
  for (;;) {
    auto page = store.cases(q);
    if (!page) return page.status();
    for (const CaseRow& c : *page) {
      cases.push_back(
          {c.contract, c.episode, std::string(case_status_name(c.status)), std::string(case_outcome_name(c.outcome))});
    }
    if (page->size() < q.limit) break;
    q.after_id = page->back().id;
  }
  result.cases = report::case_outcomes(input, cases);
  return result;
}

}  // namespace gw
