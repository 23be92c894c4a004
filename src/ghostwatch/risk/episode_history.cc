#include "ghostwatch/risk/episode_history.h"

#include <unordered_map>

namespace gw::risk {
namespace {

// Keeps every episode's row; an open episode's row by contract, until it closes.
class HistoryObserver : public EpisodeObserver {
 public:
  explicit HistoryObserver(std::vector<EpisodeRow>& rows) : rows_(rows) {}

  void on_opened(const EpisodeRecord& r, const EpisodeFeatures& f) override {
    open_[std::string(r.contract)] = rows_.size();
    rows_.push_back(EpisodeRow{std::string(r.contract), r.episode, r.opened_at, f, Outcome::kOpen, kNoInstant});
  }
  void on_closed(const EpisodeRecord& r) override {
    auto it = open_.find(std::string(r.contract));
    EpisodeRow& row = rows_[it->second];
    row.outcome = r.outcome;
    row.closed_at = r.closed_at;
    open_.erase(it);
  }

 private:
  std::vector<EpisodeRow>& rows_;
  std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace

Result<EpisodeHistory> read_episode_history(const std::string& events_path) {
  EpisodeHistory h;
  HistoryObserver observer(h.rows);
  auto stats = stream_episode_features(events_path, observer);
  if (!stats) return stats.status();
  h.stream = *stats;
  return h;
}

std::optional<bool> unanswered72h(const EpisodeRow& row, Instant data_end) {
  if (row.opened_at > data_end - kUnansweredHorizon) return std::nullopt;
  // As the spec's response_seconds: whole seconds, rounded down.
  return row.outcome != Outcome::kReplied || (row.closed_at - row.opened_at) / kSecond > kUnansweredHorizon / kSecond;
}

}  // namespace gw::risk
