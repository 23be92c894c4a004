// `ghostwatch preview`, run as a user would run it.
#include <gtest/gtest.h>

#include <string>

#include "mail_support.h"
#include "serve_process.h"

namespace gw::test {
namespace {

CommandOutput run(const std::string& args) { return run_ghostwatch("preview " + args); }

const std::string kTemplates = std::string(GHOSTWATCH_SOURCE_DIR) + "/templates";

TEST(MailPreview, RendersSubjectTextAndHtml) {
  const CommandOutput r = run("--template reminder-1 --locale es --templates " + kTemplates);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("Template: reminder-1 (locale es)\nSubject: Ana O'Brien & Co espera tu respuesta\n", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("--- text/plain ---\nHola, José Müller:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hace 26 horas"), std::string::npos);
  EXPECT_NE(r.out.find("--- text/html ---\n<!DOCTYPE html>"), std::string::npos);
  EXPECT_NE(r.out.find("Ana O&#39;Brien &amp; Co"), std::string::npos);
}

TEST(MailPreview, SaysWhichLocaleItFellBackTo) {
  const CommandOutput r = run("--template escalation-checkin --locale pt-BR --templates " + kTemplates);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("Template: escalation-checkin (locale en, asked for pt-BR)\n", 0), 0u) << r.out;
}

TEST(MailPreview, UnknownTemplatesAndBrokenDirectoriesExitWithStatus2) {
  CommandOutput r = run("--template reminder-9 --templates " + kTemplates);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no template named \"reminder-9\" (there are: escalation-checkin, reminder-1, reminder-2)"),
            std::string::npos)
      << r.out;
  TempDir dir;
  write_file(dir.file("a.en.subject"), "{{nope}}\n");
  r = run("--template a --templates " + dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("a.en.subject:1: unknown variable \"nope\""), std::string::npos) << r.out;
}

TEST(MailPreview, MimeShowsTheWholeMessageFromTheConfig) {
  TempDir dir;
  std::string config = kSampleMailToml;
  config.replace(config.find("templates = \"templates\""), 23, "templates = \"" + kTemplates + "\"");
  export_sample_mail_key();
  write_file(dir.file("policy.toml"), config);
  const CommandOutput r = run("--template reminder-2 --locale es --mime --config " + dir.file("policy.toml"));
  ASSERT_EQ(r.status, 0) << r.out;
  const ParsedMail m = parse_mail(r.out);
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.subject, "Ana O'Brien & Co sigue esperando tu respuesta");
  EXPECT_EQ(m.from.address, "reminders@marketplace.example");
  EXPECT_EQ(m.headers.at("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_NE(r.out.find("\r\n"), std::string::npos);
  EXPECT_EQ(run("--template reminder-2 --mime").status, 2) << "--mime needs --config";
}

}  // namespace
}  // namespace gw::test
