// Request and response helpers shared by the HTTP API's route files: JSON
// error bodies, query parameters that name themselves when they fail to
// parse (BadParameter, which the route wrapper answers with a 400), JSON
// request bodies, and the JSON form of an instant.
#pragma once

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw::http {

inline constexpr std::size_t kMaxPageSize = 1000;

inline void send_error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
                      -1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

// `body` as the response (200 unless res.status says otherwise).
inline void send_json(httplib::Response& res, const nlohmann::ordered_json& body) {
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// A query parameter that failed to parse: the message names it.
struct BadParameter {
  std::string message;
};

inline std::optional<std::string> param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

inline std::int64_t int_param(const httplib::Request& req, const char* name, std::int64_t fallback, std::int64_t lo,
                              std::int64_t hi) {
  auto v = param(req, name);
  if (!v) return fallback;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    throw BadParameter{fmt::format("{}: must be an integer from {} to {}, not \"{}\"", name, lo, hi, *v)};
  }
  return n;
}

template <typename T>
std::optional<T> enum_param(const httplib::Request& req, const char* name, std::optional<T> (*parse)(std::string_view),
                            std::string_view allowed) {
  auto v = param(req, name);
  if (!v) return std::nullopt;
  auto parsed = parse(*v);
  if (!parsed) throw BadParameter{fmt::format("{}: must be one of {}, not \"{}\"", name, allowed, *v)};
  return parsed;
}

// ?format=ndjson asks for an export (json, the default, for a page).
inline bool wants_ndjson(const httplib::Request& req) {
  auto f = param(req, "format");
  if (!f || *f == "json") return false;
  if (*f == "ndjson") return true;
  throw BadParameter{fmt::format("format: must be json or ndjson, not \"{}\"", *f)};
}

// The request's JSON object body, or nullopt after answering 400.
inline std::optional<nlohmann::json> object_body(const httplib::Request& req, httplib::Response& res) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_error(res, 400, "bad_body", "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

// A string field of `body`: nullopt when absent; answers 400 (and sets
// `failed`) when it is not a string.
inline std::optional<std::string> string_field(const nlohmann::json& body, const char* name, httplib::Response& res,
                                               bool& failed) {
  if (failed || !body.contains(name)) return std::nullopt;
  if (!body[name].is_string()) {
    send_error(res, 400, "bad_body", fmt::format("{}: must be a string", name));
    failed = true;
    return std::nullopt;
  }
  return body[name].get<std::string>();
}

// A text field as JSON: null when empty (a value never given).
inline nlohmann::ordered_json text_or_null(std::string_view s) {
  return s.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s);
}

// An instant as RFC 3339 text, null for kNoInstant.
inline nlohmann::json instant_json(Instant t) {
  return t == kNoInstant ? nlohmann::json() : nlohmann::json(format_rfc3339(t));
}

}  // namespace gw::http
