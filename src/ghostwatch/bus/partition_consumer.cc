#include "ghostwatch/bus/partition_consumer.h"

#include <fmt/format.h>

#include <charconv>

#include "ghostwatch/bus/event_router.h"
#include "ghostwatch/bus/jetstream_handles.h"

namespace gw::bus {

struct PartitionConsumer::Subscription {
  natsSubscription* sub = nullptr;
  natsMsg* last = nullptr;  // the last message fetched and not acknowledged yet
  std::string name;

  ~Subscription() {
    if (last != nullptr) natsMsg_Destroy(last);
    if (sub != nullptr) natsSubscription_Destroy(sub);  // the durable consumer stays on the server
  }
};

namespace {

// A header's value as a number, or nullopt when absent or not one.
template <typename T>
std::optional<T> numeric_header(natsMsg* m, const char* name) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, name, &v) != NATS_OK || v == nullptr) return std::nullopt;
  T out{};
  const char* end = v + std::char_traits<char>::length(v);
  auto [p, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || p != end) return std::nullopt;
  return out;
}

Result<PartitionMessage> read_message(natsMsg* m) {
  PartitionMessage out;
  jsMsgMetaData* meta = nullptr;
  if (natsStatus s = natsMsg_GetMetaData(&meta, m); s != NATS_OK) {
    return Status::error(
        fmt::format("bus: a message on {} has no JetStream metadata: {}", natsMsg_GetSubject(m), nats_error(s)));
  }
  out.stream_seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  const auto seq = numeric_header<std::uint64_t>(m, "Gw-Seq");
  const auto watermark = numeric_header<Instant>(m, "Gw-Watermark");
  if (!seq || !watermark) {
    return Status::error(fmt::format("bus: message {} on {} lacks a numeric Gw-Seq or Gw-Watermark header",
                                     out.stream_seq, natsMsg_GetSubject(m)));
  }
  out.seq = *seq;
  out.watermark = *watermark;
  out.line.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
  const char* control = nullptr;
  if (natsMsgHeader_Get(m, kControlHeader, &control) == NATS_OK && control != nullptr) {
    Instant at = 0;
    const char* end = out.line.data() + out.line.size();
    auto [p, ec] = std::from_chars(out.line.data(), end, at);
    if (std::string_view(control) != kEvaluateThrough || ec != std::errc() || p != end) {
      return Status::error(fmt::format("bus: message {} on {}: unknown control \"{}\" with data \"{}\"", out.stream_seq,
                                       natsMsg_GetSubject(m), control, out.line));
    }
    out.evaluate_through = at;
    out.line.clear();
  }
  return out;
}

}  // namespace

PartitionConsumer::PartitionConsumer(std::uint32_t partition, std::unique_ptr<Subscription> sub)
    : partition_(partition), sub_(std::move(sub)) {}

PartitionConsumer::~PartitionConsumer() = default;

Result<std::unique_ptr<PartitionConsumer>> PartitionConsumer::open(JetStream& js, const BusSettings& settings,
                                                                   std::uint32_t partition, std::uint64_t after_seq) {
  JetStream::Handles& h = js.handles();
  auto sub = std::make_unique<Subscription>();
  sub->name = fmt::format("ghostwatch-p{}", partition);
  const std::string subject = subject_of(partition);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(h.js, settings.stream.c_str(), sub->name.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return Status::error(
        fmt::format("bus: replacing consumer {} of {} failed: {}", sub->name, settings.stream, nats_error(s, code)));
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = settings.stream.c_str();
  options.Config.Durable = sub->name.c_str();
  options.Config.FilterSubject = subject.c_str();
  options.Config.AckPolicy = js_AckAll;
  options.Config.AckWait = 60LL * 1'000'000'000;  // ns; ack() follows each commit
  options.Config.MaxAckPending = 100'000;
  if (after_seq > 0) {
    options.Config.DeliverPolicy = js_DeliverByStartSequence;
    options.Config.OptStartSeq = after_seq + 1;
  } else {
    options.Config.DeliverPolicy = js_DeliverAll;
  }
  s = js_PullSubscribe(&sub->sub, h.js, subject.c_str(), sub->name.c_str(), nullptr, &options, &code);
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: consuming {} from {} failed: {}", subject, h.servers, nats_error(s, code)));
  }
  return std::unique_ptr<PartitionConsumer>(new PartitionConsumer(partition, std::move(sub)));
}

Result<std::vector<PartitionMessage>> PartitionConsumer::fetch(int max, Duration wait) {
  std::vector<PartitionMessage> out;
  natsMsgList list{};
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&list, sub_->sub, max, wait, &code);
  if (s == NATS_TIMEOUT) return out;
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: fetching partition {} failed: {}", partition_, nats_error(s, code)));
  }
  out.reserve(static_cast<std::size_t>(list.Count));
  Status bad = Status::ok();
  for (int i = 0; i < list.Count; ++i) {
    auto m = read_message(list.Msgs[i]);
    if (!m) {
      bad = m.status();
      break;
    }
    out.push_back(std::move(*m));
  }
  if (bad && list.Count > 0) {
    if (sub_->last != nullptr) natsMsg_Destroy(sub_->last);
    sub_->last = list.Msgs[list.Count - 1];
    list.Msgs[list.Count - 1] = nullptr;  // kept for ack(); the list destroys the others
  }
  natsMsgList_Destroy(&list);
  if (!bad) return bad;
  return out;
}

Status PartitionConsumer::ack() {
  if (sub_->last == nullptr) return Status::ok();
  const natsStatus s = natsMsg_Ack(sub_->last, nullptr);
  natsMsg_Destroy(sub_->last);
  sub_->last = nullptr;
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: acknowledging partition {} failed: {}", partition_, nats_error(s)));
  }
  return Status::ok();
}

}  // namespace gw::bus
