#include "ghostwatch/report/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gw::report {
namespace {

constexpr double kHtmlSignificance = 0.05;

// What y = 1 means for a metric, after "Nudged freelancers".
std::string_view html_metric_phrase(std::string_view name) {
  if (name == "reply_24h") return "replied within 24 h";
  if (name == "reply_48h") return "replied within 48 h";
  if (name == "reply_72h") return "replied within 72 h";
  if (name == "bad_outcome") return "had their contract cancelled or replaced";
  return name;
}

// A no-break space keeps "27.3 %" on one line.
std::string html_percent(double rate) { return fmt::format("{:.1f}\u00a0%", rate * 100); }
std::string html_points(double diff) { return fmt::format("{:+.1f}", diff * 100); }

// A p-value to four decimals, "< 0.0001" below that.
std::string html_p_value(double p) { return p < 0.0001 ? "< 0.0001" : fmt::format("{:.4f}", p); }

std::string html_p(std::optional<double> p) {
  if (!p) return "p not defined";
  return *p < 0.0001 ? "p " + html_p_value(*p) : "p = " + html_p_value(*p);
}

// Plot coordinates: `v` in [lo, hi] mapped onto [a, b] pixels.
double html_scale(double v, double lo, double hi, double a, double b) {
  return hi == lo ? a : a + (v - lo) / (hi - lo) * (b - a);
}

constexpr std::string_view kHtmlArmColour[2] = {"#c0392b", "#2c3e50"};  // treatment, control

// The Kaplan-Meier curves as step lines, up to the last reply time of either
// arm (at most 14 days), one point per pixel column at most.
std::string html_km_svg(const SurvivalAnalysis& s) {
  constexpr double kW = 640, kH = 300, kLeft = 50, kRight = 620, kTop = 15, kBottom = 260;
  Duration last = 0;
  for (const KmCurve& c : s.arms) {
    if (!c.steps.empty()) last = std::max(last, c.steps.back().time);
  }
  const double max_hours = std::clamp(std::ceil(static_cast<double>(last) / kHour / 24) * 24, 24.0, 14 * 24.0);
  std::string svg = fmt::format(
      R"(<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="Share of episodes still unanswered, by hours since the trigger">)",
      kW, kH, kW, kH);
  svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#888"/>)", kLeft, kBottom, kRight);
  svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#888"/>)", kLeft, kTop, kBottom);
  for (int percent = 0; percent <= 100; percent += 25) {
    const double y = html_scale(percent, 0, 100, kBottom, kTop);
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{} %</text>)", kLeft - 5, y + 4,
                       percent);
  }
  const int tick = max_hours > 96 ? 24 : 12;
  for (int h = 0; h <= static_cast<int>(max_hours); h += tick) {
    const double x = html_scale(h, 0, max_hours, kLeft, kRight);
    svg +=
        fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{} h</text>)", x, kBottom + 15, h);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">hours since the first step</text>)",
                     (kLeft + kRight) / 2, kBottom + 32);
  for (const Arm arm : {Arm::kTreatment, Arm::kControl}) {
    const KmCurve& c = s.arm(arm);
    const double y0 = html_scale(1, 0, 1, kBottom, kTop);
    std::string path = fmt::format("M{:.1f},{:.1f}", kLeft, y0);
    double last_x = kLeft;
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      const double hours = static_cast<double>(c.steps[i].time) / kHour;
      if (hours > max_hours) break;
      const double x = html_scale(hours, 0, max_hours, kLeft, kRight);
      // Within one pixel column only the column's last value is drawn.
      const auto column = [&](std::size_t k) {
        return std::floor(html_scale(static_cast<double>(c.steps[k].time) / kHour, 0, max_hours, kLeft, kRight));
      };
      if (i + 1 < c.steps.size() && column(i + 1) == column(i)) continue;
      path += fmt::format("H{:.1f}V{:.1f}", x, html_scale(c.steps[i].survival, 0, 1, kBottom, kTop));
      last_x = x;
    }
    if (last_x < kRight) path += fmt::format("H{:.1f}", kRight);
    const auto a = static_cast<std::size_t>(arm);
    svg += fmt::format(R"(<path d="{}" fill="none" stroke="{}" stroke-width="2"/>)", path, kHtmlArmColour[a]);
    svg += fmt::format(R"(<text x="{}" y="{}" font-size="12" fill="{}" text-anchor="end">{}</text>)", kRight,
                       kTop + 14 + 16 * static_cast<double>(a), kHtmlArmColour[a],
                       arm == Arm::kTreatment ? "treatment (nudged)" : "control (held out)");
  }
  return svg + "</svg>";
}

// One row per metric: the difference in points with its 95 % CI.
std::string html_forest_svg(const std::vector<MetricResult>& metrics) {
  constexpr double kW = 640, kRow = 36, kLeft = 190, kRight = 620, kTop = 10;
  const double height = kTop + kRow * static_cast<double>(metrics.size()) + 40;
  double span = 0.01;
  for (const MetricResult& m : metrics) {
    for (const auto& v : {m.comparison.diff, m.comparison.ci_low, m.comparison.ci_high}) {
      if (v && std::isfinite(*v)) span = std::max(span, std::fabs(*v));
    }
  }
  span *= 1.15;
  const auto x_of = [&](double v) { return html_scale(v, -span, span, kLeft, kRight); };
  std::string svg = fmt::format(
      R"(<svg viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-label="Treatment minus control, with 95 % confidence intervals">)",
      kW, height);
  const double bottom = kTop + kRow * static_cast<double>(metrics.size());
  svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#888" stroke-dasharray="4 3"/>)",
                     x_of(0), kTop, bottom);
  for (const double v : {-span / 1.15, 0.0, span / 1.15}) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{} pts</text>)", x_of(v),
                       bottom + 15, html_points(v));
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="12" text-anchor="middle">treatment − control</text>)",
                     (kLeft + kRight) / 2, bottom + 32);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const Comparison& c = metrics[i].comparison;
    const double y = kTop + kRow * (static_cast<double>(i) + 0.5);
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12" text-anchor="end">{}</text>)", kLeft - 10, y + 4,
                       html_escape(metrics[i].name));
    if (c.ci_low && c.ci_high) {
      svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#2c3e50" stroke-width="2"/>)",
                         x_of(*c.ci_low), y, x_of(*c.ci_high), y);
    }
    if (c.diff) {
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="5" fill="{}"/>)", x_of(*c.diff), y,
                         c.p_value && *c.p_value < kHtmlSignificance ? "#c0392b" : "#2c3e50");
    }
  }
  return svg + "</svg>";
}

std::string html_number(std::optional<double> v, std::string_view spec = "{:.4g}") {
  if (!v || !std::isfinite(*v)) return "–";
  return fmt::format(fmt::runtime(spec), *v);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string html_ci(std::optional<double> lo, std::optional<double> hi) {
  return lo && hi ? html_points(*lo) + " to " + html_points(*hi) : "–";
}

// Population episodes triggered per UTC day, one line per arm.
std::string html_daily_svg(const std::vector<DailyTriggers>& days) {
  constexpr double kW = 640, kH = 250, kLeft = 50, kRight = 620, kTop = 40, kBottom = 210;  // legend above kTop
  std::int64_t most = 1;
  for (const DailyTriggers& d : days) most = std::max({most, d.episodes[0], d.episodes[1]});
  const double last = std::max<double>(1, static_cast<double>(days.size()) - 1);
  std::string svg = fmt::format(
      R"(<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="Episodes triggered per day, by arm">)",
      kW, kH, kW, kH);
  svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#888"/>)", kLeft, kBottom, kRight);
  svg += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#888"/>)", kLeft, kTop, kBottom);
  for (const std::int64_t v : {std::int64_t{0}, most / 2, most}) {
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)", kLeft - 5,
                       html_scale(static_cast<double>(v), 0, static_cast<double>(most), kBottom, kTop) + 4, v);
  }
  const std::size_t label_every = std::max<std::size_t>(1, (days.size() + 7) / 8);
  for (std::size_t i = 0; i < days.size(); i += label_every) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)",
                       html_scale(static_cast<double>(i), 0, last, kLeft, kRight), kBottom + 15,
                       format_rfc3339(days[i].day * kDay).substr(5, 5));
  }
  for (const Arm arm : {Arm::kTreatment, Arm::kControl}) {
    const auto a = static_cast<std::size_t>(arm);
    std::string points;
    for (std::size_t i = 0; i < days.size(); ++i) {
      points += fmt::format(
          "{}{:.1f},{:.1f}", i == 0 ? "" : " ", html_scale(static_cast<double>(i), 0, last, kLeft, kRight),
          html_scale(static_cast<double>(days[i].episodes[a]), 0, static_cast<double>(most), kBottom, kTop));
    }
    svg +=
        fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)", points, kHtmlArmColour[a]);
    svg += fmt::format(R"(<text x="{}" y="{}" font-size="12" fill="{}" text-anchor="end">{}</text>)", kRight,
                       12 + 14 * static_cast<double>(a), kHtmlArmColour[a],
                       arm == Arm::kTreatment ? "treatment (nudged)" : "control (held out)");
  }
  return svg + "</svg>";
}

// Per metric: the CUPED-adjusted difference and the always-valid interval.
std::string html_adjusted_table(const std::vector<MetricResult>& metrics) {
  std::string html =
      "<h2>With the pre-period, and for daily looks</h2>\n<p class=\"note\">CUPED adjusts each episode by its "
      "freelancer's behaviour before the campaign (same expected difference, smaller interval when the past "
      "predicts the present). The always-valid interval stays honest however often the report is looked at "
      "and whenever the test is stopped; it is wider than the fixed one.</p>\n"
      "<table><tr><th>metric</th><th>CUPED diff</th><th>CUPED 95 % CI</th><th>variance removed</th>"
      "<th>always-valid 95 % CI</th><th>always-valid p</th></tr>\n";
  for (const MetricResult& m : metrics) {
    std::string cuped_diff = "–", cuped_ci = "–", removed = "–";
    if (m.cuped) {
      const Comparison& a = m.cuped->cuped.adjusted;
      if (a.diff) cuped_diff = html_points(*a.diff) + " pts";
      cuped_ci = html_ci(a.ci_low, a.ci_high);
      if (a.se && m.comparison.se && *m.comparison.se > 0) {
        removed = html_percent(1 - (*a.se / *m.comparison.se) * (*a.se / *m.comparison.se));
      }
    }
    html += "<tr><td>" + html_escape(m.name) + "</td><td>" + html_escape(cuped_diff) + "</td><td>" +
            html_escape(cuped_ci) + "</td><td>" + html_escape(removed) + "</td><td>" +
            html_escape(html_ci(m.sequential.ci_low, m.sequential.ci_high)) + "</td><td>" +
            html_escape(m.sequential.p_value ? html_p_value(*m.sequential.p_value) : "–") + "</td></tr>\n";
  }
  return html + "</table>\n";
}

// reply_24h by the groups of one attribute.
std::string html_groups_table(std::string_view attribute, const std::vector<GroupResult>& groups) {
  std::string html = "<table><tr><th>" + html_escape(attribute) +
                     "</th><th>episodes (t / c)</th><th>treatment</th><th>control</th><th>diff</th>"
                     "<th>95 % CI</th></tr>\n";
  for (const GroupResult& g : groups) {
    const Comparison& c = g.metrics.front().comparison;  // reply_24h
    html += "<tr><td>" + html_escape(g.group.empty() ? "(not given)" : g.group) + "</td><td>" +
            html_escape(fmt::format("{} / {}", g.episodes[static_cast<std::size_t>(Arm::kTreatment)],
                                    g.episodes[static_cast<std::size_t>(Arm::kControl)])) +
            "</td><td>" + html_escape(c.treatment.rate ? html_percent(*c.treatment.rate) : "–") + "</td><td>" +
            html_escape(c.control.rate ? html_percent(*c.control.rate) : "–") + "</td><td>" +
            html_escape(c.diff ? html_points(*c.diff) + " pts" : "–") + "</td><td>" +
            html_escape(html_ci(c.ci_low, c.ci_high)) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string metric_verdict(const MetricResult& metric) {
  const Comparison& c = metric.comparison;
  const std::string_view phrase = html_metric_phrase(metric.name);
  if (!c.diff) {
    return fmt::format("Not enough data to say whether nudged freelancers {} more or less often.", phrase);
  }
  const std::string ci = c.ci_low && c.ci_high
                             ? fmt::format("95 % CI {} to {}", html_points(*c.ci_low), html_points(*c.ci_high))
                             : "95 % CI not defined";
  const std::string numbers = fmt::format("{} vs {}, {} points ({}), {}", html_percent(*c.treatment.rate),
                                          html_percent(*c.control.rate), html_points(*c.diff), ci, html_p(c.p_value));
  if (c.p_value && *c.p_value < kHtmlSignificance) {
    return fmt::format("Nudged freelancers {} {}: {}", phrase, *c.diff > 0 ? "more often" : "less often", numbers);
  }
  return fmt::format("No clear difference in how often nudged freelancers {}: {}", phrase, numbers);
}

std::string experiment_html(const ExperimentReport& report) {
  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>)";
  html += html_escape("Experiment report: " + report.campaign);
  html += R"(</title><style>
body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}.srm{border:4px solid #c0392b;background:#fdecea;padding:1em;font-weight:bold}
.verdicts li{margin:.4em 0}.note{color:#666;font-size:.9em}
</style></head><body>
)";
  html += "<h1>" + html_escape("Experiment report: " + report.campaign) + "</h1>\n";
  html += "<p class=\"note\">Data end: " +
          html_escape(report.data_end == kNoInstant ? "none" : format_rfc3339(report.data_end)) +
          html_escape(fmt::format("; holdout share {} %.", report.holdout_percent)) + "</p>\n";

  const SrmTest& srm = report.srm;
  if (srm.p_value && *srm.p_value < kSrmAlarmP) {
    html += "<div class=\"srm\">" +
            html_escape(fmt::format(
                "Sample ratio mismatch: {} treatment and {} control freelancers, where a {} % holdout expects "
                "{:.1f} and {:.1f} (chi2 = {}, p = {:.2g}). The arms are not what the assignment promises; do not "
                "trust the comparisons below until the cause is found.",
                srm.treatment, srm.control, report.holdout_percent, srm.expected_treatment, srm.expected_control,
                html_number(srm.chi2, "{:.2f}"), *srm.p_value)) +
            "</div>\n";
  }

  html += "<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n";
  for (const MetricResult& m : report.metrics) html += "<li>" + html_escape(metric_verdict(m)) + "</li>\n";
  html += "</ul>\n<h2>Differences, treatment − control</h2>\n" + html_forest_svg(report.metrics) + "\n";

  html +=
      "<table><tr><th>metric</th><th>treatment</th><th>control</th><th>diff</th><th>95 % CI</th><th>p</th>"
      "<th>n (t / c)</th></tr>\n";
  for (const MetricResult& m : report.metrics) {
    const Comparison& c = m.comparison;
    html += "<tr><td>" + html_escape(m.name) + "</td><td>" +
            html_escape(c.treatment.rate ? html_percent(*c.treatment.rate) : "–") + "</td><td>" +
            html_escape(c.control.rate ? html_percent(*c.control.rate) : "–") + "</td><td>" +
            html_escape(c.diff ? html_points(*c.diff) + " pts" : "–") + "</td><td>" +
            html_escape(html_ci(c.ci_low, c.ci_high)) + "</td><td>" +
            html_escape(c.p_value ? html_p_value(*c.p_value) : "–") + "</td><td>" +
            html_escape(fmt::format("{} / {}", c.treatment.n, c.control.n)) + "</td></tr>\n";
  }
  html += "</table>\n" + html_adjusted_table(report.metrics);

  const SurvivalAnalysis& s = report.survival;
  html +=
      "<h2>Time to reply</h2>\n<p class=\"note\">Share of episodes still unanswered, by hours since the "
      "first step (Kaplan–Meier; censored at the contract's end or the data end).</p>\n" +
      html_km_svg(s) + "\n";
  html += "<p>" +
          html_escape(fmt::format(
              "Median time to reply after the first step: {} h nudged, {} h held out. Log-rank test: chi2 = {}, {}.",
              html_number(s.arm(Arm::kTreatment).median
                              ? std::optional<double>(static_cast<double>(*s.arm(Arm::kTreatment).median) / kHour)
                              : std::nullopt,
                          "{:.1f}"),
              html_number(s.arm(Arm::kControl).median
                              ? std::optional<double>(static_cast<double>(*s.arm(Arm::kControl).median) / kHour)
                              : std::nullopt,
                          "{:.1f}"),
              html_number(s.logrank.chi2, "{:.2f}"), html_p(s.logrank.p_value))) +
          "</p>\n";

  if (!report.daily_triggers.empty()) {
    html +=
        "<h2>Episodes triggered per day</h2>\n<p class=\"note\">Population episodes by the UTC day of their first "
        "step, per arm: the two lines should move together, in the ratio of the holdout share.</p>\n" +
        html_daily_svg(report.daily_triggers) + "\n";
  }
  html +=
      "<h2>Population and cost</h2>\n<table><tr><th>arm</th><th>episodes</th><th>freelancers</th>"
      "<th>nudges sent per freelancer</th><th>episodes escalated</th></tr>\n";
  for (const Arm arm : {Arm::kTreatment, Arm::kControl}) {
    const ArmSummary& a = report.arm(arm);
    html +=
        "<tr><td>" + std::string(arm == Arm::kTreatment ? "treatment" : "control") + "</td><td>" +
        std::to_string(a.episodes) + "</td><td>" + std::to_string(a.freelancers) + "</td><td>" +
        html_escape(a.freelancers > 0
                        ? fmt::format("{:.2f}", static_cast<double>(a.nudges_sent) / static_cast<double>(a.freelancers))
                        : "–") +
        "</td><td>" +
        html_escape(a.episodes > 0 ? html_percent(static_cast<double>(a.escalated_episodes) /
                                                  static_cast<double>(a.episodes))
                                   : "–") +
        "</td></tr>\n";
  }
  html += "</table>\n";
  if (report.opt_out) {
    const Comparison& o = report.opt_out->comparison;
    html += "<p>" +
            html_escape(fmt::format(
                "Opted out of reminder e-mails after their first step: {} of nudged freelancers, {} of held-out "
                "ones ({} points, 95 % CI {}, {}).",
                o.treatment.rate ? html_percent(*o.treatment.rate) : "–",
                o.control.rate ? html_percent(*o.control.rate) : "–", o.diff ? html_points(*o.diff) : "–",
                html_ci(o.ci_low, o.ci_high), html_p(o.p_value))) +
            "</p>\n";
  }
  if (!report.by_country.empty() || !report.by_kind.empty()) {
    html +=
        "<h2>Replied within 24 h, by country and kind</h2>\n<p class=\"note\">The freelancer's country and kind at "
        "their first step. Small groups have wide intervals; many groups make a few look significant by "
        "chance.</p>\n" +
        html_groups_table("country", report.by_country) + html_groups_table("kind", report.by_kind);
  }
  html += "<p class=\"note\">" +
          html_escape(fmt::format("Sample ratio test: chi2 = {}, p = {}. Definitions: docs/report.md.",
                                  html_number(srm.chi2, "{:.2f}"), html_number(srm.p_value))) +
          "</p>\n</body></html>\n";
  return html;
}

}  // namespace gw::report
