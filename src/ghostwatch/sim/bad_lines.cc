#include "ghostwatch/sim/bad_lines.h"

#include <iterator>

#include "ghostwatch/sim/ids.h"

namespace gw::sim {

BadLines::BadLines(std::uint64_t seed, double share, LineBuffer& out, const SimulationView& sim)
    : rng_(seed ^ 0x6261646c696e6573ULL),  // "badlines": a stream of its own
      out_(out),
      sim_(sim) {
  const double q = share / (1.0 - share);  // bad lines per valid one
  threshold_ = static_cast<std::uint64_t>(q * 4294967296.0);
}

RejectReason BadLines::write(Instant t) {
  at_.clear();
  append_rfc3339(at_, floor_div(t, kSecond) * kSecond);
  const auto variant = static_cast<BadVariant>(rng_.below(kBadVariantCount));
  const RejectReason reason = write_bad_variant(variant);
  out_.put('\n');
  return reason;
}

RejectReason BadLines::write_bad_variant(BadVariant variant) {
  switch (variant) {
    case kTruncated: return write_truncated();
    case kInvalidUtf8: return write_invalid_utf8();
    case kNanValue:
      out_.put('{');
      put_message_body();
      if (rng_.below(2) == 0) {
        out_.lit(R"(,"sentiment":NaN})");
      } else {
        out_.lit(R"(,"score":Infinity})");
      }
      return RejectReason::kBadJson;
    case kNotObject: return write_not_object();
    case kNoAt:
      out_.lit(R"({"type":"message")");
      put_message_parties();
      out_.put('}');
      return RejectReason::kMissingField;
    case kNoType:
      out_.lit(R"({"at":)");
      put_quoted_at();
      put_message_parties();
      out_.put('}');
      return RejectReason::kMissingField;
    case kNonStringCore: return write_non_string_core();
    case kDuplicateKey: return write_duplicate_key();
    case kUnknownType: return write_unknown_type();
    case kMissingTypeField: return write_missing_type_field();
    case kNonStringField: return write_non_string_field();
    case kUnparseableTime: return write_unparseable_time();
    case kDuplicateStart: return write_duplicate_start();
    case kSelfContract: return write_self_contract();
    case kUnknownContract: return write_unknown_contract();
    case kEndedContract: return write_ended_contract();
    case kStranger: return write_stranger();
    case kBadVariantCount: break;
  }
  return write_unknown_contract();
}

// A started, not yet ended contract, or nullopt when a few draws find none.
std::optional<ContractParties> BadLines::live_contract() {
  for (int attempt = 0; attempt < 8 && sim_.contract_slots() > 0; ++attempt) {
    if (auto c = sim_.live_contract(rng_.below(sim_.contract_slots()))) return c;
  }
  return std::nullopt;
}

// `,"contract":"` and an id that no contract ever has ("cx" never starts a
// real one).
void BadLines::put_unknown_contract() {
  out_.lit(R"(,"contract":"cx)");
  out_.put_uint(rng_.below(1'000'000), 6);
}

void BadLines::put_quoted_at() {
  out_.put('"');
  out_.put(at_);
  out_.put('"');
}

// `{"type":"<type>","at":"…"`: how most bad lines begin.
void BadLines::put_head(std::string_view type) {
  out_.lit(R"({"type":")");
  out_.put(type);
  out_.lit(R"(","at":)");
  put_quoted_at();
}

// `"type":"message","at":"…","contract":"…","from":"…"` for a plausible
// message (without braces), used where the state does not matter.
void BadLines::put_message_body() {
  out_.lit(R"("type":"message","at":)");
  put_quoted_at();
  put_message_parties();
}

void BadLines::put_message_parties() {
  const std::optional<ContractParties> c = live_contract();
  if (c) {
    out_.lit(R"(,"contract":")");
    put_contract_id(out_, c->number);
  } else {
    put_unknown_contract();
  }
  out_.lit(R"(","from":")");
  put_client_id(out_, c ? c->client : 0);
  out_.put('"');
}

// A valid-looking message cut short, as a crashed writer leaves it.
RejectReason BadLines::write_truncated() {
  const std::size_t mark = out_.size();
  out_.put('{');
  put_message_body();
  out_.put('}');
  const std::size_t len = out_.size() - mark;
  out_.truncate(mark + 1 + rng_.below(len - 1));  // a non-empty proper prefix
  return RejectReason::kBadJson;
}

RejectReason BadLines::write_invalid_utf8() {
  static constexpr std::string_view kBroken[] = {"Jos\xC3(", "\xFF", "\xC0\xAF", "\xED\xA0\x80", "Ana\x80"};
  put_head("user");
  out_.lit(R"(,"id":")");
  put_freelancer_id(out_, rng_.below(sim_.freelancers()));
  out_.lit(R"(","name":")");
  out_.put(kBroken[rng_.below(std::size(kBroken))]);
  out_.lit("\"}");
  return RejectReason::kBadJson;
}

RejectReason BadLines::write_not_object() {
  switch (rng_.below(4)) {
    case 0:
      out_.lit(R"(["message",)");
      put_quoted_at();
      out_.lit(R"(,"c000001","cl0"])");
      break;
    case 1: out_.lit(R"("message")"); break;
    case 2: out_.lit("42"); break;
    default: out_.lit("null"); break;
  }
  return RejectReason::kBadJson;
}

RejectReason BadLines::write_non_string_core() {
  switch (rng_.below(3)) {
    case 0:  // epoch seconds instead of RFC 3339
      out_.lit(R"({"type":"message","at":)");
      out_.put_uint(static_cast<std::uint64_t>(floor_div(parse_rfc3339(at_).value_or(0), kSecond)));
      break;
    case 1:
      out_.lit(R"({"type":null,"at":)");
      put_quoted_at();
      break;
    default:
      out_.lit(R"({"type":7,"at":)");
      put_quoted_at();
      break;
  }
  put_message_parties();
  out_.put('}');
  return RejectReason::kBadField;
}

RejectReason BadLines::write_duplicate_key() {
  if (rng_.below(2) == 0) {
    out_.lit(R"({"type":"message",)");
    put_message_body();
  } else {
    out_.put('{');
    put_message_body();
    out_.lit(R"(,"at":)");
    put_quoted_at();
  }
  out_.put('}');
  return RejectReason::kBadField;
}

RejectReason BadLines::write_unknown_type() {
  static constexpr std::string_view kTypes[] = {"contract_paused", "offer_sent", "Message", "milestone_funded",
                                                "review"};
  put_head(kTypes[rng_.below(std::size(kTypes))]);
  put_message_parties();
  out_.put('}');
  return RejectReason::kUnknownType;
}

RejectReason BadLines::write_missing_type_field() {
  switch (rng_.below(5)) {
    case 0:
      put_head("message");
      put_unknown_contract();
      out_.lit(R"(","id":"m0"})");
      break;
    case 1:
      put_head("contract_started");
      put_unknown_contract();
      out_.lit(R"(","client":"cl0"})");
      break;
    case 2:
      put_head("opt_out");
      out_.lit(R"(,"email":"fl0@example.org"})");
      break;
    case 3:
      put_head("user");
      out_.lit(R"(,"role":"freelancer","country":"IN"})");
      break;
    default:
      put_head("contract_ended");
      out_.lit(R"(,"reason":"completed"})");
      break;
  }
  return RejectReason::kMissingField;
}

RejectReason BadLines::write_non_string_field() {
  switch (rng_.below(7)) {
    case 0:
      put_head("message");
      put_unknown_contract();
      out_.lit(R"(","from":null})");
      break;
    case 1:
      put_head("message");
      out_.lit(R"(,"contract":123,"from":"cl0"})");
      break;
    case 2:
      out_.put('{');
      put_message_body();
      out_.lit(R"(,"id":42})");
      break;
    case 3:
      put_head("user");
      out_.lit(R"(,"id":"fl0","tz":null})");
      break;
    case 4:
      put_head("contract_ended");
      put_unknown_contract();
      out_.lit(R"(","reason":true})");
      break;
    case 5:
      put_head("opt_in");
      out_.lit(R"(,"user":["fl0"]})");
      break;
    default:
      put_head("contract_started");
      put_unknown_contract();
      out_.lit(R"(","client":17,"freelancer":"fl0"})");
      break;
  }
  return RejectReason::kBadField;
}

RejectReason BadLines::write_unparseable_time() {
  std::string at = at_;  // YYYY-MM-DDTHH:MM:SSZ
  switch (rng_.below(8)) {
    case 0: at[10] = ' '; break;                   // space separator
    case 1: at.replace(11, 8, "23:59:60"); break;  // leap second
    case 2: at.replace(5, 5, "02-30"); break;      // impossible date
    case 3: at.pop_back(); break;                  // no zone
    case 4: at.replace(19, 1, "+0530"); break;     // offset without colon
    case 5: at = "yesterday"; break;
    case 6: at.clear(); break;
    default: at.resize(10); break;  // date only
  }
  out_.lit(R"({"type":"message","at":")");
  out_.put(at);
  out_.put('"');
  put_message_parties();
  out_.put('}');
  return RejectReason::kBadTime;
}

// The same contract_started delivered twice, as at-least-once feeds do.
RejectReason BadLines::write_duplicate_start() {
  const std::optional<ContractParties> c = live_contract();
  const std::span<const ContractParties> ended = sim_.recently_ended();
  ContractParties ref;
  if (c) {
    ref = *c;
  } else if (!ended.empty()) {
    ref = ended[rng_.below(ended.size())];
  } else {
    return write_unknown_contract();
  }
  put_head("contract_started");
  out_.lit(R"(,"contract":")");
  put_contract_id(out_, ref.number);
  out_.lit(R"(","client":")");
  put_client_id(out_, ref.client);
  out_.lit(R"(","freelancer":")");
  put_freelancer_id(out_, ref.freelancer);
  out_.lit("\"}");
  return RejectReason::kDuplicateContract;
}

// A freelancer hiring themself.
RejectReason BadLines::write_self_contract() {
  const std::uint64_t f = rng_.below(sim_.freelancers());
  put_head("contract_started");
  put_unknown_contract();
  out_.lit(R"(","client":")");
  put_freelancer_id(out_, f);
  out_.lit(R"(","freelancer":")");
  put_freelancer_id(out_, f);
  out_.lit("\"}");
  return RejectReason::kBadField;
}

RejectReason BadLines::write_unknown_contract() {
  if (rng_.below(2) == 0) {
    put_head("message");
    put_unknown_contract();
    out_.lit(R"(","from":"cl0"})");
  } else {
    put_head("contract_ended");
    put_unknown_contract();
    out_.lit(R"(","reason":"cancelled"})");
  }
  return RejectReason::kUnknownContract;
}

RejectReason BadLines::write_ended_contract() {
  const std::span<const ContractParties> ended = sim_.recently_ended();
  if (ended.empty()) return write_unknown_contract();
  const ContractParties& ref = ended[rng_.below(ended.size())];
  if (rng_.below(2) == 0) {  // a client writing into a closed room
    put_head("message");
    out_.lit(R"(,"contract":")");
    put_contract_id(out_, ref.number);
    out_.lit(R"(","from":")");
    put_client_id(out_, ref.client);
    out_.lit("\"}");
  } else {  // the end delivered twice
    put_head("contract_ended");
    out_.lit(R"(,"contract":")");
    put_contract_id(out_, ref.number);
    out_.lit(R"(","reason":"completed"})");
  }
  return RejectReason::kContractEnded;
}

// A message on a live contract from a freelancer who is not on it.
RejectReason BadLines::write_stranger() {
  const std::optional<ContractParties> c = live_contract();
  if (!c) return write_unknown_contract();
  std::uint64_t other = rng_.below(sim_.freelancers());
  if (other == c->freelancer) other = sim_.freelancers();  // an id nobody has
  put_head("message");
  out_.lit(R"(,"contract":")");
  put_contract_id(out_, c->number);
  out_.lit(R"(","from":")");
  put_freelancer_id(out_, other);
  out_.lit("\"}");
  return RejectReason::kNotAParty;
}

}  // namespace gw::sim
