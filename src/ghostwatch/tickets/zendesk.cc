#include "ghostwatch/tickets/zendesk.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace gw {
namespace {

constexpr std::string_view kZendeskKeys[] = {"url",     "email",         "token_env", "groups",
                                             "timeout", "retry_initial", "retry_max"};

std::string external_id(std::int64_t case_id) { return fmt::format("ghostwatch-case-{}", case_id); }

// The internal comment a change adds to its ticket.
std::string comment_for(const CaseChange& change, const CaseRow& c) {
  const CaseEntry& e = change.entry;
  if (e.kind == "escalated") {
    return fmt::format(
        "The client's message on contract {} has gone unanswered: episode {} was escalated to {} ({}). "
        "Freelancer: {}. Client: {}.",
        c.contract, e.episode, c.team, e.text, c.freelancer, c.client);
  }
  if (e.kind == "note") return e.author.empty() ? e.text : fmt::format("{} (note by {})", e.text, e.author);
  if (e.kind == "email_in") return fmt::format("E-mail from {}:\n\n{}", e.author, e.text);
  if (e.kind == "auto_reply")
    return fmt::format("Automatic reply from {} (not a person answering):\n\n{}", e.author, e.text);
  const std::string by = e.author.empty() ? "" : fmt::format(" by {}", e.author);
  if (e.text.empty()) return fmt::format("{} cleared in ghostwatch{}.", e.kind, by);
  return fmt::format("{} set to {} in ghostwatch{}.", e.kind, e.text, by);
}

}  // namespace

Result<std::optional<ZendeskSettings>> parse_zendesk_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys) {
  auto table = optional_table(text, source, "zendesk");
  if (!table) return table.status();
  if (!table->has_value()) return std::optional<ZendeskSettings>();
  std::string error;
  ConfigTable t(&**table, "zendesk", source, error);
  ZendeskSettings z;
  z.url = t.string("url", true);
  if (!z.url.empty() && z.url.back() == '/') z.url.pop_back();
  if (!t.failed() && (!split_http_url(z.url) || split_http_url(z.url)->second != "/")) {
    t.fail("url", "must be the account's base URL, like \"https://acme.zendesk.com\"");
  }
  z.email = t.string("email", true);
  if (!t.failed() && z.email.find('@') == std::string::npos) t.fail("email", "must be the API user's e-mail address");
  if (auto token = t.secret("token_env", env)) z.token = *token;
  if (const toml::node* groups = (*table)->get("groups"); groups != nullptr && !t.failed()) {
    if (!groups->is_table()) {
      t.fail("groups", "must be a table of team = group id");
    } else {
      for (const auto& [team, id] : *groups->as_table()) {
        if (!id.is_integer() || id.as_integer()->get() <= 0) {
          t.fail(fmt::format("groups.{}", team.str()), "must be a positive whole number (a Zendesk group id)");
          break;
        }
        z.groups[std::string(team.str())] = id.as_integer()->get();
      }
    }
  }
  read_timeout_and_retry(t, z.timeout, z.retry);
  if (t.failed()) return Status::error(error);
  if (unknown_keys != nullptr) t.collect_unknown(kZendeskKeys, *unknown_keys);
  return std::optional<ZendeskSettings>(std::move(z));
}

MirrorResult ZendeskTarget::operator()(const CaseChange& change, const std::optional<CaseRow>& kase) {
  if (!kase) return {MirrorResult::kRefused, fmt::format("change {}: case {} is gone", change.id, change.case_id)};
  const CaseRow& c = *kase;
  httplib::Client client(settings_.url);
  client.set_tcp_nodelay(true);
  client.set_basic_auth(settings_.email + "/token", settings_.token);
  const auto timeout = std::chrono::milliseconds(settings_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const auto failed = [&](const httplib::Result& r, const char* what) {
    MirrorResult m;
    m.outcome = http_outcome(r ? std::optional<int>(r->status) : std::nullopt);
    m.error = r ? fmt::format("change {}: {}: HTTP {}: {}", change.id, what, r->status, r->body.substr(0, 200))
                : fmt::format("change {}: {}: {}", change.id, what, httplib::to_string(r.error()));
    return m;
  };

  // The case's ticket: known, found by external_id, or made now.
  auto known = tickets_.find(c.id);
  if (known == tickets_.end()) {
    auto r = client.Get("/api/v2/tickets.json", {{"external_id", external_id(c.id)}}, httplib::Headers{});
    if (!r || r->status / 100 != 2) return failed(r, "finding the ticket");
    const auto found = nlohmann::json::parse(r->body, nullptr, false);
    if (found.is_object() && found.contains("tickets") && found["tickets"].is_array() && !found["tickets"].empty()) {
      known = tickets_.emplace(c.id, found["tickets"][0].value("id", std::int64_t{0})).first;
    }
  }
  nlohmann::json ticket = {{"comment", {{"body", comment_for(change, c)}, {"public", false}}}};
  if (known == tickets_.end()) {
    ticket["external_id"] = external_id(c.id);
    ticket["subject"] = c.contract.empty() ? fmt::format("E-mail from freelancer {}", c.freelancer)
                                           : fmt::format("Unanswered client message on contract {}", c.contract);
    ticket["tags"] = {"ghostwatch", "team-" + c.team};
    if (auto group = settings_.groups.find(c.team); group != settings_.groups.end()) ticket["group_id"] = group->second;
    // The client asks for help; on a case about no contract the freelancer wrote in.
    const std::string& requester = c.client.empty() ? c.freelancer : c.client;
    auto contact = store_.user_contact(requester);
    if (contact && contact->has_value() && !(*contact)->email.value_or("").empty()) {
      ticket["requester"] = {{"email", *(*contact)->email}, {"name", (*contact)->name.value_or(requester)}};
    }
    auto r = client.Post("/api/v2/tickets.json", nlohmann::json{{"ticket", ticket}}.dump(), "application/json");
    if (!r || r->status / 100 != 2) return failed(r, "creating the ticket");
    const auto made = nlohmann::json::parse(r->body, nullptr, false);
    if (made.is_object() && made.contains("ticket")) tickets_[c.id] = made["ticket"].value("id", std::int64_t{0});
    return {};
  }
  if (change.entry.kind == "status") ticket["status"] = change.entry.text;
  if (change.entry.kind == "outcome" && !change.entry.text.empty()) {
    ticket["additional_tags"] = {"outcome-" + change.entry.text};
  }
  auto r = client.Put(fmt::format("/api/v2/tickets/{}.json", known->second), nlohmann::json{{"ticket", ticket}}.dump(),
                      "application/json");
  if (!r || r->status / 100 != 2) return failed(r, "updating the ticket");
  return {};
}

}  // namespace gw
