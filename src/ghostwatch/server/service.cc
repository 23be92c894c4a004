#include "ghostwatch/server/service.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "ghostwatch/core/hex.h"
#include "ghostwatch/engine/snapshot.h"
#include "ghostwatch/ingest/line_reader.h"
#include "ghostwatch/policy/arm.h"
#include "ghostwatch/risk/feature_store.h"
#include "ghostwatch/risk/live_scorer.h"
#include "ghostwatch/risk/risk_model.h"
#include "ghostwatch/server/service_snapshot.h"

namespace gw {
namespace {

// What an accepted event tells the users table: a user event's contact
// details (the engine keeps only what its rules read), an opt-out or opt-in;
// nullopt for the others.
std::optional<UserContact> contact_of(const Event& e) {
  if (e.type == EventType::kOptOut || e.type == EventType::kOptIn) {
    UserContact u;
    u.id = std::string(e.get(Field::kUser));
    u.opted_out = e.type == EventType::kOptOut;
    return u;
  }
  if (e.type != EventType::kUser) return std::nullopt;
  UserContact u;
  u.id = std::string(e.get(Field::kId));
  if (e.has(Field::kEmail)) u.email = std::string(e.get(Field::kEmail));
  if (e.has(Field::kName)) u.name = std::string(e.get(Field::kName));
  if (e.has(Field::kCountry)) u.country = std::string(e.get(Field::kCountry));
  if (e.has(Field::kRole)) u.role = std::string(e.get(Field::kRole));
  return u;
}

// A bounce's log entry and control message: {"user": ..., "email": ...}.
Result<std::pair<std::string, std::string>> read_bounce(std::string_view text) {
  const auto bounce = nlohmann::json::parse(text, nullptr, false);
  if (!bounce.is_object() || !bounce.contains("user") || !bounce["user"].is_string() || !bounce.contains("email") ||
      !bounce["email"].is_string()) {
    return Status::error(fmt::format("a bounce is unreadable: {}", text));
  }
  return std::make_pair(bounce["user"].get<std::string>(), bounce["email"].get<std::string>());
}

std::string error_body(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

// The meta key that says the feature store runs from the log's start.
constexpr const char* kRiskFeaturesMeta = "risk_features";
constexpr const char* kCompactedLogHasNoFeatures =
    "a risk model's features are computed from the operation log's first event, and this log was compacted "
    "(serve --compact-log): score with a data directory (or store) whose log is whole";

// A model.json's text as a model; null for an empty text (no model).
Result<std::unique_ptr<const risk::RiskModel>> parse_model(const std::string& text, std::string_view source) {
  if (text.empty()) return std::unique_ptr<const risk::RiskModel>();
  auto parsed = risk::RiskModel::parse(text, source);
  if (!parsed) return parsed.status();
  return std::make_unique<const risk::RiskModel>(std::move(*parsed));
}

}  // namespace

std::string bounce_text(std::string_view user, std::string_view address) {
  return nlohmann::json{{"user", user}, {"email", address}}.dump(-1, ' ', false,
                                                                 nlohmann::json::error_handler_t::replace);
}

// Collects the engine's output into the batch being built (or, during
// recovery, only counts it: it is in the store already), and tells the
// feature store, when there is one, of every episode that closes and of
// every one that opens unscored (the scorer tells it of the others). A
// partition's sink also notes the contracts whose open episode the batch
// changes: opened, a step sent, closed; the service notes the contracts and
// users its events change (commit() stores what they all are then).
class Service::Sink final : public EngineSink {
 public:
  explicit Sink(ServiceCounters& counters) : counters_(counters) {}

  void on_decision(const Decision& d) override {
    ++counters_.decisions[static_cast<std::size_t>(d.action)][static_cast<std::size_t>(d.status)];
    if (!batch) return;
    if (keeps_partition_state && d.status == DecisionStatus::kSent) {
      note(changed_open, d.contract);
      note(changed_contracts, d.contract);
    }
    batch->decisions.push_back(DecisionRow::from(d));
    // The decided episode is the contract's open one.
    if (auto c = engine->find_contract(d.contract); c && c->open && c->episodes == d.episode) {
      batch->decisions.back().episode_opened_at = c->pending_since;
    }
  }
  void on_episode(const EpisodeRecord& e) override {
    if (features != nullptr) features->on_episode_closed(e);
    --counters_.open_episodes;
    ++counters_.closed_episodes;
    if (!batch) return;
    if (keeps_partition_state) note(changed_open, e.contract);
    batch->episodes.push_back(EpisodeRow::from(e));
    batch->episodes.back().id = static_cast<std::int64_t>(counters_.closed_episodes);
  }
  // An open episode is engine state (rebuilt from the log); a partition
  // stores it too, for the other workers' API.
  void on_episode_opened(const EpisodeRecord& e) override {
    ++counters_.open_episodes;
    if (features != nullptr && e.risk < 0) features->on_episode_opened(e);  // a score is never negative
    if (batch && keeps_partition_state) note(changed_open, e.contract);
  }

  Batch* batch = nullptr;  // nullptr: recovering
  const Engine* engine = nullptr;
  risk::FeatureStore* features = nullptr;
  bool keeps_partition_state = false;  // a partition's: its open episodes, contracts and users
  // Since the last commit: contracts whose open episode changed, contracts
  // and users that changed, users first named by a contract.
  using Ids = std::set<std::string, std::less<>>;
  Ids changed_open, changed_contracts, changed_users, named_users;
  // Adds `id` to `ids`; no allocation when it is there (most events of a
  // batch are on contracts it has seen).
  static void note(Ids& ids, std::string_view id) {
    if (ids.find(id) == ids.end()) ids.emplace(id);
  }

 private:
  ServiceCounters& counters_;
};

Service::Service(std::string first_policy_text, Store& store, const Clock& clock, ClockMode mode,
                 std::optional<std::uint64_t> claim)
    : first_policy_text_(std::move(first_policy_text)), store_(store), clock_(clock), mode_(mode), claim_(claim) {}

Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::open(const std::string& policy_text, Store& store, const Clock& clock,
                                               ClockMode mode, std::optional<std::uint64_t> claim,
                                               const std::string& model_text,
                                               std::string_view model_source) {
  auto model = parse_model(model_text, model_source);  // refused before anything is stored
  if (!model) return model.status();
  auto kept = store.get_meta("policy");
  if (!kept) return kept.status();
  if (!kept->has_value()) {
    if (Status s = store.set_meta("policy", policy_text); !s) return s;
  }
  auto features = store.get_meta(kRiskFeaturesMeta);
  if (!features) return features.status();
  if (!features->has_value() && !model_text.empty()) {
    auto compacted = store.log_compacted();
    if (!compacted) return compacted.status();
    if (*compacted) return Status::error(fmt::format("{}: {}", model_source, kCompactedLogHasNoFeatures));
    // Before the model is logged: recovery must keep the features from then on.
    if (Status s = store.set_meta(kRiskFeaturesMeta, "from the log's start"); !s) return s;
  }
  std::unique_ptr<Service> service(new Service(kept->value_or(policy_text), store, clock, mode, claim));
  service->keeps_features_ = features->has_value() || !model_text.empty();
  if (Status s = service->recover(); !s) return s;
  {
    std::lock_guard lock(service->mu_);
    if (claim) {
      if (Status s = service->replace_partition_state(); !s) return s;
    }
    if (Status s = service->change_model(model_text, std::move(*model), model_source); !s) return s;
  }
  if (auto changed = service->reload(policy_text); !changed) return changed.status();
  return service;
}

Status Service::switch_model(const std::string& text, std::unique_ptr<const risk::RiskModel> model,
                             std::string_view source) {
  std::unique_ptr<risk::LiveRiskScorer> scorer;
  if (model) {
    if (!features_) return Status::error(fmt::format("{}: a risk model, but no feature store runs", source));
    scorer = std::make_unique<risk::LiveRiskScorer>(*features_, *model);
  }
  engine_->set_scorer(scorer.get());
  scorer_ = std::move(scorer);  // the engine no longer points at the old one
  model_ = std::move(model);
  model_text_ = text;
  return Status::ok();
}

Status Service::change_model(const std::string& text, std::unique_ptr<const risk::RiskModel> model,
                             std::string_view source) {
  if (text == model_text_) return Status::ok();
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  if (Status s = switch_model(text, std::move(model), source); !s) {
    sink_->batch = nullptr;
    return s;
  }
  batch.log.push_back(LogEntry{LogKind::kModel, engine_->watermark(), text});
  return commit();
}

bool Service::scores_risk() const {
  std::lock_guard lock(mu_);
  return model_ != nullptr;
}

RejectReason Service::submit(const Event& e, bool live) {
  if (features_) features_->begin_event(e);
  const RejectReason r = live ? engine_->submit_live(e) : engine_->submit(e);
  if (features_ && r == RejectReason::kNone) features_->apply(e);
  return r;
}

Status Service::switch_policy(const std::string& text, std::string_view source) {
  Result<Policy> parsed = parse_policy(text, source);
  if (!parsed) return parsed.status();
  auto fresh = std::make_unique<const Policy>(std::move(*parsed));
  if (engine_) engine_->set_policy(*fresh);
  policy_ = std::move(fresh);  // the engine no longer points at the old one
  policy_text_ = text;
  return Status::ok();
}

Result<bool> Service::reload(const std::string& policy_text) {
  std::lock_guard lock(mu_);
  if (policy_text == policy_text_) return false;
  Result<Policy> fresh = parse_policy(policy_text, "the new config");
  if (!fresh) return fresh.status();
  if (fresh->name != policy_->name) {
    return Status::error(fmt::format(
        "campaign.name: this data directory holds the campaign \"{}\" (its arms, Message-IDs and report); a new "
        "campaign needs a new --data directory",
        policy_->name));
  }
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  if (mode_ == ClockMode::kWall) {
    const Instant now = std::max(clock_.now(), last_tick_);
    last_tick_ = now;
    engine_->advance_clock(now);
    batch.log.push_back(LogEntry{LogKind::kClockTick, now, {}});
  }
  if (Status s = switch_policy(policy_text, "the new config"); !s) return s;
  if (sink_->keeps_partition_state) {
    // Their arm and tier are the policy's.
    engine_->for_each_open_episode([&](const EpisodeRecord& e) {
      Sink::note(sink_->changed_open, e.contract);
      Sink::note(sink_->changed_contracts, e.contract);
    });
  }
  batch.log.push_back(LogEntry{LogKind::kPolicy, engine_->watermark(), policy_text});
  if (Status s = commit(); !s) return s;
  return true;
}

Result<bool> Service::reload_model(const std::string& text, std::string_view source) {
  std::lock_guard lock(mu_);
  if (!features_) {
    return Status::error(fmt::format(
        "{}: this service was started without a risk model, so it kept no features to score with; restart it with "
        "--model",
        source));
  }
  if (text == model_text_) return false;
  auto model = parse_model(text, source);
  if (!model) return model.status();
  if (Status s = change_model(text, std::move(*model), source); !s) return s;
  return true;
}

Policy Service::policy() const {
  std::lock_guard lock(mu_);
  return *policy_;
}

Status Service::recover() {
  const auto started = std::chrono::steady_clock::now();
  counters_ = ServiceCounters{};
  sink_ = std::make_unique<Sink>(counters_);
  sink_->keeps_partition_state = claim_.has_value();
  scorer_.reset();
  features_.reset();
  engine_.reset();
  auto latest = store_.latest_snapshot();
  if (!latest) return latest.status();
  std::optional<ServiceSnapshot> snapshot;
  std::int64_t through_row = 0;  // the log rows the snapshot covers
  auto snapshot_failed = [&](const Status& s) {
    return Status::error(fmt::format("recovery: the snapshot through log row {}: {}", through_row, s.message()));
  };
  if (latest->has_value()) {
    through_row = (*latest)->through_row;
    auto read = ServiceSnapshot::read((*latest)->bytes);
    if (!read) return snapshot_failed(read.status());
    snapshot = std::move(*read);
  }
  if (snapshot && keeps_features_ && snapshot->features.empty()) {
    // Taken before the service kept features: they need the log from its start.
    auto compacted = store_.log_compacted();
    if (!compacted) return compacted.status();
    if (*compacted) {
      return snapshot_failed(
          Status::error(fmt::format("it holds no risk features, and {}", kCompactedLogHasNoFeatures)));
    }
    snapshot.reset();
    through_row = 0;
  }
  last_tick_ = kNoInstant;
  if (snapshot) {
    if (Status s = restore(*snapshot, (*latest)->bytes.size()); !s) return snapshot_failed(s);
  } else {
    if (Status s = switch_policy(first_policy_text_, "the data directory's policy"); !s) return s;
    engine_ = std::make_unique<Engine>(*policy_, *sink_);
    if (keeps_features_) features_ = std::make_unique<risk::FeatureStore>(*engine_);
  }
  sink_->engine = engine_.get();
  sink_->features = features_.get();
  // The snapshot's model, or none at the log's start.
  const std::string model_text = snapshot ? snapshot->model_text : std::string();
  auto model = parse_model(model_text, "the snapshot's risk model");
  if (Status s = model ? switch_model(model_text, std::move(*model), "the snapshot's risk model") : model.status();
      !s) {
    return snapshot_failed(s);
  }
  std::uint64_t seq = counters_.log_entries;  // the snapshot's
  Event event;
  Status s = store_.read_log(through_row, [&](const LogEntry& entry) -> Status {
    ++seq;
    switch (entry.kind) {
      case LogKind::kEvent:
      case LogKind::kLiveEvent:
      case LogKind::kPartitionEvent: {
        RejectReason r = parser_.parse_copy(entry.line, event);
        if (r == RejectReason::kNone && entry.kind == LogKind::kPartitionEvent) {
          engine_->advance_watermark(entry.at);
          if (features_) features_->pass_time(entry.at + policy_->allowed_lateness);  // Gw-Watermark
        }
        if (r == RejectReason::kNone) r = submit(event, entry.kind == LogKind::kLiveEvent);
        if (r != RejectReason::kNone) {
          return Status::error(fmt::format("recovery: log entry {} was accepted once but is now rejected ({}): {}",
                                           seq, reject_reason_name(r), entry.line));
        }
        ++counters_.accepted;
        return Status::ok();
      }
      case LogKind::kClockTick:
        engine_->advance_clock(entry.at);
        last_tick_ = entry.at;
        return Status::ok();
      case LogKind::kEvaluateThrough:
        engine_->evaluate_through(entry.at);
        counters_.evaluated_through = std::max(counters_.evaluated_through, entry.at);
        return Status::ok();
      case LogKind::kBounce: {
        auto bounce = read_bounce(entry.line);
        if (!bounce) return Status::error(fmt::format("recovery: log entry {} (a bounce): {}", seq, bounce.message()));
        engine_->mark_bouncing(bounce->first, bounce->second);
        return Status::ok();
      }
      case LogKind::kPolicy:
        if (Status p = switch_policy(entry.line, fmt::format("log entry {} (a reload)", seq)); !p) {
          return Status::error(fmt::format("recovery: {}", p.message()));
        }
        return Status::ok();
      case LogKind::kModel: {
        const std::string source = fmt::format("log entry {} (a risk model)", seq);
        auto model = parse_model(entry.line, source);
        Status m = model ? switch_model(entry.line, std::move(*model), source) : model.status();
        if (!m) return Status::error(fmt::format("recovery: {}", m.message()));
        return Status::ok();
      }
    }
    return Status::ok();
  });
  if (!s) return s;
  counters_.log_entries_since_snapshot = seq - counters_.log_entries;
  counters_.log_entries = seq;
  // Rejects are not in the log; their counts come from the store (which
  // does not say a partition's from the others').
  for (std::int64_t after = 0; !claim_;) {
    auto page = store_.rejects(after, 10000);
    if (!page) return page.status();
    if (page->empty()) break;
    for (const StoredReject& r : *page) ++counters_.rejected[static_cast<std::size_t>(r.row.reason)];
    after = page->back().id;
  }
  sink_->batch = nullptr;
  recovery_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return Status::ok();
}

Status Service::restore(const ServiceSnapshot& snapshot, std::size_t bytes) {
  if (Status s = switch_policy(snapshot.policy_text, "the snapshot's policy"); !s) return s;
  engine_ = std::make_unique<Engine>(*policy_, *sink_);
  if (Status s = EngineSnapshot::restore(snapshot.engine, *engine_); !s) return s;
  if (keeps_features_) {
    features_ = std::make_unique<risk::FeatureStore>(*engine_);
    if (Status s = features_->restore(snapshot.features); !s) return s;
  }
  counters_ = snapshot.counters;
  counters_.snapshot_bytes = bytes;
  last_tick_ = snapshot.last_tick;
  return Status::ok();
}

void Service::add_snapshot(Batch& batch) {
  const std::uint64_t since = counters_.log_entries_since_snapshot + batch.log.size();
  if (snapshot_every_ == 0 || since < snapshot_every_ || batch.log.empty()) return;
  ServiceSnapshot snapshot{policy_text_, counters_, last_tick_, EngineSnapshot::write(*engine_), {}, {}};
  if (features_) {
    snapshot.model_text = model_text_;
    snapshot.features = features_->encode();
  }
  snapshot.counters.log_entries += batch.log.size();  // this batch's entries are covered too
  std::string bytes = ServiceSnapshot::write(snapshot);
  if (bytes.size() > kMaxSnapshotBytes) return;
  batch.snapshot = SnapshotWrite{std::move(bytes), compact_log_};
}

Status Service::replace_partition_state() {
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  batch.replaces_open_episodes = true;
  engine_->for_each_open_episode([&](const EpisodeRecord& e) {
    batch.open_episodes.push_back(OpenEpisodeChange{std::string(e.contract), EpisodeRow::from(e)});
  });
  batch.replaces_contract_states = true;
  engine_->for_each_contract([&](std::string_view id, const ContractSnapshot& c) {
    batch.contract_states.push_back(ContractStateRow::from(id, c));
  });
  engine_->for_each_user(
      [&](std::string_view id, const UserSnapshot& u) { batch.named_users.push_back(UserStateRow::from(id, u)); });
  return commit();
}

Status Service::commit(std::optional<PartitionPosition> consumed_through) {
  Batch& batch = *sink_->batch;
  if (claim_) {
    batch.fence = PartitionFence{*claim_, consumed_through, engine_->watermark(), counters_.evaluated_through};
  }
  for (const std::string& contract : sink_->changed_open) {
    auto open = engine_->open_episode(contract);
    batch.open_episodes.push_back(
        OpenEpisodeChange{contract, open ? std::optional<EpisodeRow>(EpisodeRow::from(*open)) : std::nullopt});
  }
  sink_->changed_open.clear();
  for (const std::string& contract : sink_->changed_contracts) {
    batch.contract_states.push_back(ContractStateRow::from(contract, *engine_->find_contract(contract)));
  }
  sink_->changed_contracts.clear();
  for (auto [users, rows] :
       {std::pair{&sink_->changed_users, &batch.user_states}, std::pair{&sink_->named_users, &batch.named_users}}) {
    for (const std::string& user : *users) rows->push_back(UserStateRow::from(user, *engine_->find_user(user)));
    users->clear();
  }
  add_snapshot(batch);
  Status s = store_.commit(batch);
  sink_->batch = nullptr;
  if (s) {
    counters_.log_entries += batch.log.size();
    counters_.log_entries_since_snapshot += batch.log.size();
    if (batch.snapshot) {
      counters_.log_entries_since_snapshot = 0;
      counters_.snapshot_bytes = batch.snapshot->bytes.size();
    }
    return s;
  }
  if (claim_) return s;  // the worker drops the partition's service
  // The engine has applied what the store refused: rebuild it from the log.
  if (Status r = recover(); !r) {
    return Status::error(fmt::format("{}; and recovery failed: {}", s.message(), r.message()));
  }
  return s;
}

void Service::record_line(Batch& batch, RejectReason r, std::uint64_t line_number, std::string_view line,
                          const Event& e, LogKind kind, Instant at) {
  if (r != RejectReason::kNone) {
    ++counters_.rejected[static_cast<std::size_t>(r)];
    batch.rejects.push_back(RejectRow{line_number, r, std::string(line)});
    return;
  }
  ++counters_.accepted;
  if (auto contact = contact_of(e)) batch.users.push_back(std::move(*contact));
  batch.log.push_back(LogEntry{kind, at, std::string(line)});
  if (!sink_->keeps_partition_state) return;
  switch (e.type) {
    case EventType::kUser: Sink::note(sink_->changed_users, e.get(Field::kId)); break;
    case EventType::kOptOut:
    case EventType::kOptIn: Sink::note(sink_->changed_users, e.get(Field::kUser)); break;
    case EventType::kContractStarted:
      Sink::note(sink_->named_users, e.get(Field::kClient));
      Sink::note(sink_->named_users, e.get(Field::kFreelancer));
      [[fallthrough]];
    case EventType::kContractEnded:
    case EventType::kMessage: Sink::note(sink_->changed_contracts, e.get(Field::kContract)); break;
  }
}

IngestReply Service::ingest(std::string_view body, const std::string& idempotency_key) {
  if (front_) return front_->publish(body, idempotency_key);
  std::lock_guard lock(mu_);
  const std::string digest = idempotency_key.empty() ? std::string() : sha256_hex(body);
  if (!idempotency_key.empty()) {
    auto earlier = store_.find_response(idempotency_key);
    if (!earlier) return {503, error_body("store_unavailable", earlier.message())};
    if (earlier->has_value()) {
      const IdempotentResponse& r = **earlier;
      if (r.request_sha256 != digest) {
        return {422, error_body("idempotency_key_reused",
                                "this Idempotency-Key was used with a different body; use a new key for new events")};
      }
      return {r.status, r.body, true};
    }
  }

  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  simdjson::padded_string buffer(body);
  const char* const end_of_buffer = buffer.data() + buffer.size() + simdjson::SIMDJSON_PADDING;
  nlohmann::ordered_json rejects = nlohmann::ordered_json::array();
  std::uint64_t accepted = 0;
  std::uint64_t line_number = 0;
  Event event;
  std::string_view rest(buffer.data(), buffer.size());
  while (!rest.empty()) {
    const std::string_view line = take_body_line(rest);
    ++line_number;
    if (is_blank_line(line)) continue;
    RejectReason r = parser_.parse(line, static_cast<std::size_t>(end_of_buffer - line.data()), event);
    if (r == RejectReason::kNone) r = submit(event, mode_ == ClockMode::kWall);
    record_line(batch, r, line_number, line, event, mode_ == ClockMode::kEvents ? LogKind::kEvent : LogKind::kLiveEvent,
                kNoInstant);
    if (r != RejectReason::kNone) {
      rejects.push_back({{"line", line_number}, {"reason", reject_reason_name(r)}});
    } else {
      ++accepted;
    }
  }
  IngestReply reply;
  reply.body = nlohmann::ordered_json{{"accepted", accepted},
                              {"rejected", rejects.size()},
                              {"decisions", batch.decisions.size()},
                              {"rejects", std::move(rejects)}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!idempotency_key.empty()) batch.response = IdempotentResponse{idempotency_key, digest, 200, reply.body};
  if (Status s = commit(); !s) return {503, error_body("store_unavailable", s.message())};
  return reply;
}

Status Service::apply_partition(const std::vector<PartitionMessage>& messages, const PartitionPosition& after) {
  if (messages.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  if (!claim_) return Status::error("apply_partition: this service is not a partition's");
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  Event event;
  for (const PartitionMessage& m : messages) {
    if (m.control == PartitionControl::kEvaluateThrough) {
      if (mode_ != ClockMode::kEvents) continue;  // the wall clock moves by itself
      engine_->evaluate_through(m.at);
      batch.log.push_back(LogEntry{LogKind::kEvaluateThrough, m.at, {}});
      counters_.evaluated_through = std::max(counters_.evaluated_through, m.at);
      continue;
    }
    if (m.control == PartitionControl::kBounce) {
      auto bounce = read_bounce(m.line);
      if (!bounce) return Status::error(fmt::format("log message {}: {}", m.seq, bounce.message()));
      engine_->mark_bouncing(bounce->first, bounce->second);
      Sink::note(sink_->changed_users, bounce->first);
      batch.log.push_back(LogEntry{LogKind::kBounce, batch.received_at, m.line});
      continue;
    }
    RejectReason r = parser_.parse_copy(m.line, event);
    // Event time: the watermark replay has at this line (docs/operations.md).
    const Instant w = m.watermark - policy_->allowed_lateness;
    if (r == RejectReason::kNone && mode_ == ClockMode::kEvents) {
      engine_->advance_watermark(w);
      if (features_) features_->pass_time(m.watermark);
    }
    if (r == RejectReason::kNone) r = submit(event, mode_ == ClockMode::kWall);
    const bool event_time = mode_ == ClockMode::kEvents;
    record_line(batch, r, m.seq, m.line, event, event_time ? LogKind::kPartitionEvent : LogKind::kLiveEvent,
                event_time ? w : kNoInstant);
  }
  return commit(after);
}

Result<std::uint64_t> Service::advance_to(Instant to) {
  if (mode_ != ClockMode::kEvents) {
    return Status::error("advance is for --clock events; with the wall clock, time advances by itself");
  }
  if (front_) {
    if (Status s = front_->advance(to); !s) return s;
    std::lock_guard lock(mu_);
    counters_.evaluated_through = std::max(counters_.evaluated_through, to);  // the dashboard's now
    return 0;
  }
  std::lock_guard lock(mu_);
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  engine_->evaluate_through(to);
  batch.log.push_back(LogEntry{LogKind::kEvaluateThrough, to, {}});
  const std::uint64_t decisions = batch.decisions.size();
  if (Status s = commit(); !s) return s;
  counters_.evaluated_through = std::max(counters_.evaluated_through, to);
  return decisions;
}

Status Service::tick() {
  std::lock_guard lock(mu_);
  if (mode_ != ClockMode::kWall) return Status::ok();
  const Instant now = std::max(clock_.now(), last_tick_);  // a clock stepped back does not undo time
  last_tick_ = now;
  if (engine_->next_due() >= now - policy_->allowed_lateness) {
    // Nothing due: only the watermark moves, which recovery need not repeat
    // (a live event never reads it; the next logged tick raises it again).
    engine_->advance_clock(now);
    return Status::ok();
  }
  Batch batch;
  batch.received_at = now;
  sink_->batch = &batch;
  engine_->advance_clock(now);
  batch.log.push_back(LogEntry{LogKind::kClockTick, now, {}});
  return commit();
}

Status Service::with_contracts(const std::vector<std::string>& ids,
                               const std::function<void(std::string_view, const ContractSnapshot&)>& fn) const {
  if (front_) {
    auto rows = store_.contract_states(ids);
    if (!rows) return rows.status();
    std::lock_guard lock(mu_);
    for (const ContractStateRow& row : *rows) {
      ContractSnapshot c = row.view();
      c.tier = tier_under(*policy_, c.tier);
      fn(row.contract, c);
    }
    return Status::ok();
  }
  std::lock_guard lock(mu_);
  for (const std::string& id : ids) {
    if (auto c = engine_->find_contract(id)) fn(id, *c);
  }
  return Status::ok();
}

namespace {

// A zone name as the engine gave it; nullptr (UTC) for none.
const date::time_zone* stored_zone(const std::string& tz) {
  if (tz.empty()) return nullptr;
  try {
    return date::locate_zone(tz);
  } catch (const std::exception&) {
    return nullptr;  // the engine resolved it; this build's zone database lacks it
  }
}

}  // namespace

Status Service::with_users(const std::vector<std::string>& ids,
                           const std::function<void(std::string_view, const UserSnapshot&)>& fn) const {
  if (front_) {
    auto rows = store_.user_states(ids);
    if (!rows) return rows.status();
    std::lock_guard lock(mu_);
    const std::uint32_t control_below = holdout_threshold(policy_->holdout_percent);
    for (const UserStateRow& row : *rows) {
      UserSnapshot u;
      u.country = row.country;
      u.kind = row.kind;
      u.tz = row.tz;
      u.zone = stored_zone(row.tz);
      u.opted_out = row.opted_out;
      u.bouncing = row.bouncing;
      u.in_segment = policy_->segment.admits(row.country, row.kind);
      u.arm = assign_arm(policy_->salt, row.user, control_below);
      fn(row.user, u);
    }
    return Status::ok();
  }
  std::lock_guard lock(mu_);
  for (const std::string& id : ids) {
    if (auto u = engine_->find_user(id)) fn(id, *u);
  }
  return Status::ok();
}

Result<bool> Service::with_contract(std::string_view id, const std::function<void(const ContractSnapshot&)>& fn) const {
  bool known = false;
  Status s = with_contracts({std::string(id)}, [&](std::string_view, const ContractSnapshot& c) {
    known = true;
    fn(c);
  });
  if (!s) return s;
  return known;
}

Result<bool> Service::with_user(std::string_view id, const std::function<void(const UserSnapshot&)>& fn) const {
  bool known = false;
  Status s = with_users({std::string(id)}, [&](std::string_view, const UserSnapshot& u) {
    known = true;
    fn(u);
  });
  if (!s) return s;
  return known;
}

std::optional<Instant> Service::open_episode_opened_at(std::string_view contract, std::uint32_t episode) const {
  std::lock_guard lock(mu_);
  auto c = engine_->find_contract(contract);
  if (!c || !c->open || c->episodes != episode) return std::nullopt;
  return c->pending_since;
}

Status Service::mark_bouncing(std::string_view user, std::string_view address) {
  if (front_) return front_->bounce(user, address);
  std::lock_guard lock(mu_);
  Batch batch;
  batch.received_at = clock_.now();
  sink_->batch = &batch;
  engine_->mark_bouncing(user, address);
  batch.log.push_back(LogEntry{LogKind::kBounce, batch.received_at, bounce_text(user, address)});
  return commit();
}

IngestReply Service::opt_out(std::string_view user) {
  Instant at = clock_.now();
  if (mode_ == ClockMode::kEvents) {
    std::lock_guard lock(mu_);
    // Event time: now is the latest event's time, not the wall clock's.
    at = std::max<Instant>(engine_->latest_event_at(), 0);
  }
  const std::string line = nlohmann::json{{"type", "opt_out"}, {"at", format_rfc3339(at)}, {"user", user}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return ingest(line, "");
}

namespace {

bool matches(const EpisodeQuery& q, const EpisodeRecord& e) {
  return (q.freelancer.empty() || e.freelancer == q.freelancer) && (q.contract.empty() || e.contract == q.contract) &&
         (!q.arm || e.arm == *q.arm) && (!q.opened_since || e.opened_at >= *q.opened_since);
}

}  // namespace

Result<std::vector<EpisodeRow>> Service::open_episodes(const EpisodeQuery& q,
                                                       std::optional<std::string_view> after_contract,
                                                       std::size_t limit) {
  std::vector<EpisodeRow> out;
  if (q.state == EpisodeState::kClosed) return out;
  if (front_) return store_.open_episodes(q, after_contract, limit);
  std::lock_guard lock(mu_);
  engine_->for_each_open_episode([&](const EpisodeRecord& e) {
    if (out.size() < limit && (!after_contract || e.contract > *after_contract) && matches(q, e)) {
      out.push_back(EpisodeRow::from(e));
    }
  });
  return out;
}

Service::EpisodeSnapshot Service::episode_snapshot(const EpisodeQuery& q) {
  EpisodeSnapshot snap;
  std::lock_guard lock(mu_);
  snap.closed_through =
      front_ ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(counters_.closed_episodes);
  if (q.state == EpisodeState::kClosed || front_) return snap;
  engine_->for_each_open_episode([&](const EpisodeRecord& e) {
    if (matches(q, e)) snap.open.push_back(EpisodeRow::from(e));
  });
  return snap;
}

ServiceCounters Service::counters() const {
  // In front of a bus: the partitions' (read before the lock is taken).
  const Result<std::uint64_t> partitions_open = front_ ? store_.open_episode_count() : std::uint64_t{0};
  const Result<std::uint64_t> partitions_contracts = front_ ? store_.contract_state_count() : std::uint64_t{0};
  const Result<Store::PartitionTimes> partitions_time = front_ ? store_.partition_times() : Store::PartitionTimes{};
  std::lock_guard lock(mu_);
  ServiceCounters c = counters_;
  c.contracts = engine_->contract_count();
  c.watermark = engine_->watermark();
  if (front_) {
    c.open_episodes = partitions_open ? *partitions_open : 0;
    c.contracts = partitions_contracts ? *partitions_contracts : 0;
    if (partitions_time) {
      c.watermark = partitions_time->watermark;
      c.evaluated_through = std::max(c.evaluated_through, partitions_time->evaluated_through);
    }
  }
  c.next_due = engine_->next_due();
  return c;
}

}  // namespace gw
