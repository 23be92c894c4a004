#include "ghostwatch/bus/partition_consumer.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

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
  const char* partition_seq = nullptr;
  if (natsMsgHeader_Get(m, "Gw-Partition-Seq", &partition_seq) == NATS_OK && partition_seq != nullptr) {
    const auto n = numeric_header<std::uint64_t>(m, "Gw-Partition-Seq");
    if (!n || *n == 0) {
      return Status::error(fmt::format("bus: message {} on {} has Gw-Partition-Seq \"{}\", not a number from 1",
                                       out.stream_seq, natsMsg_GetSubject(m), partition_seq));
    }
    out.partition_seq = *n;
  }
  out.line.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
  const char* control = nullptr;
  if (natsMsgHeader_Get(m, kControlHeader, &control) != NATS_OK || control == nullptr) return out;
  if (std::string_view(control) == kBounce) {
    out.control = PartitionControl::kBounce;
    return out;
  }
  const char* end = out.line.data() + out.line.size();
  auto [p, ec] = std::from_chars(out.line.data(), end, out.at);
  if (std::string_view(control) != kEvaluateThrough || ec != std::errc() || p != end) {
    return Status::error(fmt::format("bus: message {} on {}: unknown control \"{}\" with data \"{}\"", out.stream_seq,
                                     natsMsg_GetSubject(m), control, out.line));
  }
  out.control = PartitionControl::kEvaluateThrough;
  out.line.clear();
  return out;
}

}  // namespace

PartitionConsumer::PartitionConsumer(JetStream& js, std::string stream, std::uint32_t partition,
                                     const PartitionPosition& after, Duration stall_after,
                                     std::unique_ptr<Subscription> sub)
    : js_(js),
      stream_(std::move(stream)),
      partition_(partition),
      last_(after.stream_seq),
      handed_out_(after.partition_seq),
      stall_after_(stall_after),
      quiet_since_(std::chrono::steady_clock::now()),
      sub_(std::move(sub)) {}

PartitionConsumer::~PartitionConsumer() = default;

Result<std::unique_ptr<PartitionConsumer>> PartitionConsumer::open(JetStream& js, const BusSettings& settings,
                                                                   std::uint32_t partition,
                                                                   const PartitionPosition& after,
                                                                   Duration stall_after) {
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
  if (after.stream_seq > 0) {
    options.Config.DeliverPolicy = js_DeliverByStartSequence;
    options.Config.OptStartSeq = after.stream_seq + 1;
  } else {
    options.Config.DeliverPolicy = js_DeliverAll;
  }
  s = js_PullSubscribe(&sub->sub, h.js, subject.c_str(), sub->name.c_str(), nullptr, &options, &code);
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: consuming {} from {} failed: {}", subject, h.servers, nats_error(s, code)));
  }
  return std::unique_ptr<PartitionConsumer>(
      new PartitionConsumer(js, settings.stream, partition, after, stall_after, std::move(sub)));
}

Result<std::vector<PartitionMessage>> PartitionConsumer::fetch(int max, Duration wait) {
  std::vector<PartitionMessage> out;
  natsMsgList list{};
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&list, sub_->sub, max, wait, &code);
  if (s == NATS_TIMEOUT) {
    if (Status stalled = check_stalled(); !stalled) return stalled;
    return out;
  }
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: fetching partition {} failed: {}", partition_, nats_error(s, code)));
  }
  if (list.Count > 0) quiet_since_ = std::chrono::steady_clock::now();
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
  std::erase_if(out, [&](const PartitionMessage& m) { return m.stream_seq <= last_; });
  if (out.empty()) return out;
  auto next = next_after(last_);
  if (!next) return next.status();
  if (*next != out.front().stream_seq) {
    return Status::error(fmt::format(
        "bus: partition {}: after message {} the stream has {} but {} came (a delivery was lost on its way)",
        partition_, last_, *next, out.front().stream_seq));
  }
  last_ = out.back().stream_seq;
  return in_order(std::move(out));
}

Result<std::vector<PartitionMessage>> PartitionConsumer::in_order(std::vector<PartitionMessage> delivered) {
  std::vector<PartitionMessage> out;
  out.reserve(delivered.size());
  for (PartitionMessage& m : delivered) {
    if (m.partition_seq == 0 && held_.empty()) {
      out.push_back(std::move(m));
    } else if (m.partition_seq == handed_out_ + 1) {
      ++handed_out_;
      out.push_back(std::move(m));
      for (auto next = held_.begin(); next != held_.end() && next->first == handed_out_ + 1; next = held_.erase(next)) {
        ++handed_out_;
        out.push_back(std::move(next->second));
      }
    } else if (m.partition_seq > handed_out_) {
      held_.emplace(m.partition_seq, std::move(m));  // a copy of one held already is dropped
    } else if (m.partition_seq == 0) {
      return Status::error(
          fmt::format("bus: partition {}: message {} has no Gw-Partition-Seq but messages after {} wait for theirs",
                      partition_, m.stream_seq, handed_out_));
    }  // else a copy of one handed out: dropped
  }
  if (held_.size() > kMaxHeld) {
    return Status::error(fmt::format(
        "bus: partition {}: {} messages wait for the partition's message {}, which has not come (is a publisher "
        "running to send what it recorded?)",
        partition_, held_.size(), handed_out_ + 1));
  }
  return out;
}

Result<std::uint64_t> PartitionConsumer::lag() {
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&info, js_.handles().js, stream_.c_str(), sub_->name.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: reading consumer {} failed: {}", sub_->name, nats_error(s, code)));
  }
  const std::uint64_t lag = info->NumPending + held_.size();
  jsConsumerInfo_Destroy(info);
  return lag;
}

PartitionPosition PartitionConsumer::position() const {
  std::uint64_t stream_seq = last_;
  for (const auto& [partition_seq, m] : held_) stream_seq = std::min(stream_seq, m.stream_seq - 1);
  return PartitionPosition{stream_seq, handed_out_};
}

Status PartitionConsumer::check_stalled() {
  const auto now = std::chrono::steady_clock::now();
  if (now - quiet_since_ < std::chrono::milliseconds(stall_after_)) return Status::ok();
  quiet_since_ = now;  // checked again after another stall_after_
  auto next = next_after(last_);
  if (!next) return next.status();
  if (*next == 0) return Status::ok();  // nothing due: idle
  return Status::error(fmt::format(
      "bus: partition {}: the stream has message {} after {}, but the consumer delivered nothing for {} s (stalled)",
      partition_, *next, last_, stall_after_ / kSecond));
}

Result<std::uint64_t> PartitionConsumer::next_after(std::uint64_t seq) {
  const std::string api = fmt::format("$JS.API.STREAM.MSG.GET.{}", stream_);
  const std::string request = nlohmann::json{{"seq", seq + 1}, {"next_by_subj", subject_of(partition_)}}.dump();
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_Request(&reply, js_.handles().conn, api.c_str(), request.data(),
                                              static_cast<int>(request.size()), 10000);
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: asking {} for partition {}'s message after {} failed: {}", stream_,
                                     partition_, seq, nats_error(s)));
  }
  const auto answer = nlohmann::json::parse(
      std::string_view(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply))), nullptr, false);
  natsMsg_Destroy(reply);
  if (answer.is_object() && answer.contains("message") && answer["message"].contains("seq")) {
    return answer["message"]["seq"].get<std::uint64_t>();
  }
  if (answer.is_object() && answer.contains("error") && answer["error"].value("code", 0) == 404) return 0;
  return Status::error(fmt::format("bus: {} answered {} about partition {}'s message after {}", stream_, answer.dump(),
                                   partition_, seq));
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
