// Tests of the HTML report (ghostwatch/report/report_html.h): verdict
// sentences, escaping, the SRM warning block, and that the page needs
// nothing from the network.
#include "ghostwatch/report/report_html.h"

#include <gtest/gtest.h>

#include <string>

namespace gw::report {
namespace {

MetricResult html_metric(std::string name, double t, double c, double low, double high, std::optional<double> p) {
  MetricResult m;
  m.name = std::move(name);
  m.comparison.treatment.rate = t;
  m.comparison.control.rate = c;
  m.comparison.diff = t - c;
  m.comparison.ci_low = low;
  m.comparison.ci_high = high;
  m.comparison.p_value = p;
  return m;
}

TEST(ReportHtml, VerdictsInPlainLanguage) {
  EXPECT_EQ(metric_verdict(html_metric("reply_24h", 0.612, 0.55, 0.031, 0.093, 0.0001)),
            "Nudged freelancers replied within 24 h more often: 61.2\u00a0% vs 55.0\u00a0%, +6.2 points "
            "(95 % CI +3.1 to +9.3), p = 0.0001");
  EXPECT_EQ(metric_verdict(html_metric("bad_outcome", 0.04, 0.06, -0.03, -0.01, 0.00001)),
            "Nudged freelancers had their contract cancelled or replaced less often: 4.0\u00a0% vs 6.0\u00a0%, -2.0 points "
            "(95 % CI -3.0 to -1.0), p < 0.0001");
  EXPECT_EQ(metric_verdict(html_metric("reply_72h", 0.70, 0.69, -0.02, 0.04, 0.52)),
            "No clear difference in how often nudged freelancers replied within 72 h: 70.0\u00a0% vs 69.0\u00a0%, +1.0 points "
            "(95 % CI -2.0 to +4.0), p = 0.5200");
  MetricResult empty;
  empty.name = "reply_48h";
  EXPECT_EQ(metric_verdict(empty),
            "Not enough data to say whether nudged freelancers replied within 48 h more or less often.");
}

ExperimentReport html_report(double srm_p) {
  ExperimentReport r;
  r.campaign = "<script>alert(\"x\")</script> & 'y'";
  r.holdout_percent = 10;
  r.data_end = *parse_rfc3339("2019-09-01T00:00:00Z");
  r.srm.treatment = 850;
  r.srm.control = 150;
  r.srm.chi2 = 27.8;
  r.srm.p_value = srm_p;
  r.metrics.push_back(html_metric("reply_24h", 0.612, 0.55, 0.031, 0.093, 0.0001));
  r.metrics.push_back(html_metric("bad_outcome", 0.04, 0.06, -0.03, -0.01, 0.00001));
  KmCurve& t = r.survival.arms[static_cast<std::size_t>(Arm::kTreatment)];
  t.steps = {{kHour, 10, 5, 0.5}, {2 * kHour, 5, 5, 0.0}};
  return r;
}

TEST(ReportHtml, SelfContainedAndEscaped) {
  const std::string html = experiment_html(html_report(0.5));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"), std::string::npos);
  for (const char* remote : {"http:", "https:", "src=", "<link", "url("}) {
    EXPECT_EQ(html.find(remote), std::string::npos) << remote;
  }
  std::size_t svgs = 0;
  for (std::size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 2u);  // the forest plot and the Kaplan-Meier curves
  EXPECT_NE(html.find("replied within 24 h more often: 61.2\u00a0% vs 55.0\u00a0%"), std::string::npos);
  EXPECT_EQ(html.find("class=\"srm\""), std::string::npos);
}

TEST(ReportHtml, LoudSrmWarning) {
  const std::string html = experiment_html(html_report(0.0009));
  EXPECT_NE(html.find("<div class=\"srm\">Sample ratio mismatch: 850 treatment and 150 control"), std::string::npos);
  EXPECT_EQ(experiment_html(html_report(0.001)).find("class=\"srm\""), std::string::npos);
}

}  // namespace
}  // namespace gw::report
