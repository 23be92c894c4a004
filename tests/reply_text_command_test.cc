// `ghostwatch reply-text`, run as a user would run it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "serve_process.h"

namespace gw::inbound {
namespace {

test::CommandOutput run_reply_text_command(const std::string& args) {
  return test::run_ghostwatch("reply-text " + args);
}

class ReplyTextCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gw-reply-text-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(ReplyTextCommand, PrintsTheVisibleReplyOfAMessage) {
  const std::string eml =
      write("reply.eml",
            "From: Ana <ana@example.com>\r\nSubject: Re: your offer\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            "S=C3=AD, el viernes me va bien.\r\n\r\nEnviado desde mi iPhone\r\n\r\n"
            "El lun, 1 ene 2024 a las 10:00, Bob <bob@example.com> escribi=C3=B3:\r\n> =C2=BFEl viernes?\r\n");
  const test::CommandOutput r = run_reply_text_command(eml);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "Sí, el viernes me va bien.\n");
}

TEST_F(ReplyTextCommand, HtmlOnlyMessages) {
  const std::string eml =
      write("html.eml",
            "From: a@example.com\nContent-Type: text/html\n\n<div>Deal!</div><div>On Mon, Jan 1, "
            "2024 at 10:00 AM Bob &lt;bob@example.com&gt; wrote:<blockquote>old</blockquote></div>");
  const test::CommandOutput r = run_reply_text_command(eml);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "Deal!\n");
}

TEST_F(ReplyTextCommand, PlainBodiesFromStdin) {
  const std::string body = write("body.txt", "Thanks!\n\n-- \nAna\n");
  const test::CommandOutput r = run_reply_text_command("--plain - < " + body);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "Thanks!\n");
  const test::CommandOutput file = run_reply_text_command("--plain " + body);
  EXPECT_EQ(file.out, "Thanks!\n");
}

TEST_F(ReplyTextCommand, AnUnreadableFileIsNamed) {
  const std::string missing = (dir_ / "missing.eml").string();
  const test::CommandOutput r = run_reply_text_command(missing);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "ghostwatch reply-text: error: " + missing + ": cannot open: No such file or directory\n");
  const test::CommandOutput dir = run_reply_text_command(dir_.string());
  EXPECT_EQ(dir.status, 2) << dir.out;
  EXPECT_EQ(dir.out, "ghostwatch reply-text: error: " + dir_.string() + ": cannot read: is a directory\n");
  const test::CommandOutput empty = run_reply_text_command(write("empty.eml", ""));
  EXPECT_EQ(empty.status, 2) << empty.out;
  EXPECT_NE(empty.out.find("empty.eml: not an e-mail message"), std::string::npos) << empty.out;
}

}  // namespace
}  // namespace gw::inbound
