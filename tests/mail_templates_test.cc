#include <gtest/gtest.h>

#include <string>

#include "ghostwatch/mail/templates.h"
#include "serve_process.h"

namespace gw::mail {
namespace {

using test::TempDir;
using test::write_file;

const std::string kShipped = std::string(GHOSTWATCH_SOURCE_DIR) + "/templates";

TemplateVariables sample() {
  TemplateVariables v;
  v.recipient_name = "José Müller";
  v.freelancer_name = "José Müller";
  v.client_name = "Ana <b>O'Brien</b> & \"Co\"";
  v.contract = "c-1042";
  v.waited = "26 hours";
  v.waited_hours = "26";
  v.conversation_url = "https://marketplace.example/contracts/c-1042/messages?a=1&b=2";
  v.opt_out_url = "https://marketplace.example/mail/opt-out/tok";
  v.sender_name = "Marketplace Reminders";
  return v;
}

// Writes a complete template (subject, txt, html) into `dir`.
void write_template(const TempDir& dir, const std::string& stem, const std::string& subject = "Hi {{client_name}}",
                    const std::string& text = "Text {{freelancer_name}}\n",
                    const std::string& html = "<p>{{freelancer_name}}</p>\n") {
  write_file(dir.file(stem + ".subject"), subject + "\n");
  write_file(dir.file(stem + ".txt"), text);
  write_file(dir.file(stem + ".html"), html);
}

TEST(MailTemplates, ShippedTemplatesLoadInEnglishAndSpanish) {
  Result<TemplateSet> set = TemplateSet::load(kShipped);
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->names(), (std::vector<std::string>{"escalation-checkin", "reminder-1", "reminder-2"}));
  for (const std::string& name : set->names()) {
    for (const std::string locale : {"en", "es"}) {
      EXPECT_EQ(set->resolve_locale(name, locale), locale) << name;
      Result<RenderedMail> mail = set->render(name, locale, sample());
      ASSERT_TRUE(mail.is_ok()) << mail.message();
      EXPECT_EQ(mail->subject.find("&amp;"), std::string::npos) << name << ": the subject is not HTML-escaped";
      EXPECT_EQ(mail->subject.find("&lt;"), std::string::npos) << name;
      EXPECT_EQ(mail->subject.find('\n'), std::string::npos);
      EXPECT_NE(mail->text.find(sample().conversation_url), std::string::npos) << name << " links the conversation";
      EXPECT_NE(mail->text.find(sample().opt_out_url), std::string::npos) << name << " links the opt-out";
      EXPECT_NE(mail->html.find("https://marketplace.example/contracts/c-1042/messages?a=1&amp;b=2"), std::string::npos)
          << name;
      EXPECT_NE(mail->text.find("26 hours"), std::string::npos) << name << " says how long the message waited";
      EXPECT_EQ(mail->html.find("<b>O'Brien"), std::string::npos) << name << ": names are escaped in HTML";
      EXPECT_EQ(mail->text.find("&amp;"), std::string::npos) << name << ": the text part is not escaped";
    }
  }
}

TEST(MailTemplates, SpanishReminderReadsSpanish) {
  Result<TemplateSet> set = TemplateSet::load(kShipped);
  ASSERT_TRUE(set.is_ok()) << set.message();
  TemplateVariables v = sample();
  v.waited = format_waited(26 * kHour, "es");
  Result<RenderedMail> mail = set->render("reminder-1", "es", v);
  ASSERT_TRUE(mail.is_ok()) << mail.message();
  EXPECT_EQ(mail->subject, "Ana <b>O'Brien</b> & \"Co\" espera tu respuesta");
  EXPECT_NE(mail->text.find("Hola, José Müller:"), std::string::npos) << mail->text;
  EXPECT_NE(mail->text.find("hace 26 horas"), std::string::npos) << mail->text;
  EXPECT_NE(mail->html.find("Ana &lt;b&gt;O&#39;Brien&lt;/b&gt; &amp; &quot;Co&quot;"), std::string::npos)
      << mail->html;
}

TEST(MailTemplates, LocalesFallBackToTheLanguageThenEnglish) {
  Result<TemplateSet> set = TemplateSet::load(kShipped);
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->resolve_locale("reminder-1", "es-MX"), "es");
  EXPECT_EQ(set->resolve_locale("reminder-1", "ES_ar"), "es");
  EXPECT_EQ(set->resolve_locale("reminder-1", "fr"), "en");
  EXPECT_EQ(set->resolve_locale("reminder-1", ""), "en");
  Result<RenderedMail> mail = set->render("reminder-1", "fr-CA", sample());
  ASSERT_TRUE(mail.is_ok());
  EXPECT_EQ(mail->subject, "Ana <b>O'Brien</b> & \"Co\" is waiting for your reply");
}

TEST(MailTemplates, WaitedInWords) {
  EXPECT_EQ(format_waited(30 * kMinute, "en"), "less than an hour");
  EXPECT_EQ(format_waited(kHour, "en"), "1 hour");
  EXPECT_EQ(format_waited(47 * kHour + 59 * kMinute, "en"), "47 hours");
  EXPECT_EQ(format_waited(48 * kHour, "en"), "2 days");
  EXPECT_EQ(format_waited(5 * kDay + 23 * kHour, "en-GB"), "5 days");
  EXPECT_EQ(format_waited(kHour, "es"), "1 hora");
  EXPECT_EQ(format_waited(26 * kHour, "es_MX"), "26 horas");
  EXPECT_EQ(format_waited(3 * kDay, "es"), "3 días");
  EXPECT_EQ(format_waited(10 * kMinute, "es"), "menos de una hora");
  EXPECT_EQ(format_waited(3 * kDay, "fr"), "3 days");
  EXPECT_EQ(format_waited(-kHour, "en"), "less than an hour");
}

TEST(MailTemplates, UnknownVariableIsALoadErrorNamingFileLineAndVariable) {
  TempDir dir;
  write_template(dir, "nudge.en", "Hi", "Hello {{freelancer_name}},\nyou waited {{wait_time}}\n");
  Result<TemplateSet> set = TemplateSet::load(dir.path());
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.message().find(dir.file("nudge.en.txt") + ":2: unknown variable \"wait_time\""), std::string::npos)
      << set.message();
  EXPECT_NE(set.message().find("known: recipient_name, freelancer_name"), std::string::npos) << set.message();
}

TEST(MailTemplates, SectionsAndUnescapedTagsAreCheckedToo) {
  TempDir dir;
  write_template(dir, "a.en", "Hi", "{{#client}}x{{/client}}\n");
  EXPECT_NE(TemplateSet::load(dir.path()).message().find("unknown variable \"client\""), std::string::npos);
  TempDir dir2;
  write_template(dir2, "a.en", "Hi {{{ clientname }}}");
  EXPECT_NE(TemplateSet::load(dir2.path()).message().find("a.en.subject:1: unknown variable \"clientname\""),
            std::string::npos)
      << TemplateSet::load(dir2.path()).message();
}

TEST(MailTemplates, HtmlTemplatesMayNotOutputUnescaped) {
  for (const std::string html : {"<p>{{{client_name}}}</p>", "<p>{{& client_name}}</p>"}) {
    TempDir dir;
    write_template(dir, "a.en", "Hi", "ok\n", html);
    Result<TemplateSet> set = TemplateSet::load(dir.path());
    ASSERT_FALSE(set.is_ok()) << html;
    EXPECT_NE(set.message().find("a.en.html:1: unescaped variable in an HTML template"), std::string::npos)
        << set.message();
  }
  // In the text part an unescaped tag is harmless (and the same as an escaped one).
  TempDir dir;
  write_template(dir, "a.en", "Hi", "{{{client_name}}} {{client_name}}\n");
  Result<TemplateSet> set = TemplateSet::load(dir.path());
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->render("a", "en", sample())->text, "Ana <b>O'Brien</b> & \"Co\" Ana <b>O'Brien</b> & \"Co\"\n");
}

TEST(MailTemplates, MissingPartsSyntaxErrorsAndBadNamesAreLoadErrors) {
  {
    TempDir dir;
    write_template(dir, "a.en");
    std::filesystem::remove(dir.file("a.en.html"));
    EXPECT_NE(TemplateSet::load(dir.path()).message().find("a.en.html: missing"), std::string::npos);
  }
  {
    TempDir dir;
    write_template(dir, "a.es");
    EXPECT_NE(TemplateSet::load(dir.path()).message().find("a.en.txt: missing: the en version is the fallback"),
              std::string::npos);
  }
  {
    TempDir dir;
    write_template(dir, "a.en", "Hi", "{{#client_name}} unclosed\n");
    const std::string message = TemplateSet::load(dir.path()).message();
    EXPECT_NE(message.find(dir.file("a.en.txt") + ": "), std::string::npos) << message;
    EXPECT_NE(message.find("Unclosed section"), std::string::npos) << message;
  }
  {
    TempDir dir;
    write_template(dir, "a.en", "line one\nline two");
    EXPECT_NE(TemplateSet::load(dir.path()).message().find("a.en.subject: a subject file holds exactly one"),
              std::string::npos);
  }
  {
    TempDir dir;
    write_template(dir, "Reminder.EN");
    EXPECT_NE(TemplateSet::load(dir.path()).message().find("Reminder.EN.html: a template file is named"),
              std::string::npos);
  }
  {
    TempDir dir;
    write_template(dir, "a.en", "Hi", "{{> partial}}\n");
    EXPECT_NE(TemplateSet::load(dir.path()).message().find("partial tags are not supported"), std::string::npos);
  }
  EXPECT_NE(TemplateSet::load("/nonexistent/templates").message().find("cannot read the template directory"),
            std::string::npos);
}

TEST(MailTemplates, CommentsAndOtherFilesAreIgnoredAndCrlfIsNormalised) {
  TempDir dir;
  write_template(dir, "a.en", "Hi {{! a comment }}there", "one\r\ntwo {{client_name}}\r\n");
  write_file(dir.file("README.md"), "{{not_a_template}}");
  Result<TemplateSet> set = TemplateSet::load(dir.path());
  ASSERT_TRUE(set.is_ok()) << set.message();
  Result<RenderedMail> mail = set->render("a", "en", sample());
  ASSERT_TRUE(mail.is_ok());
  EXPECT_EQ(mail->subject, "Hi there");
  EXPECT_EQ(mail->text, "one\ntwo Ana <b>O'Brien</b> & \"Co\"\n");
  EXPECT_FALSE(set->render("missing", "en", sample()).is_ok());
}

}  // namespace
}  // namespace gw::mail
