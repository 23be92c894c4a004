// Test-only helpers for the mail tests: parse MIME bytes back with GMime
// (the same library a reader's side would use) into plain values to assert
// on, and sample configuration.
#pragma once

#include <gmime/gmime.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/mail/mail_config.h"
#include "ghostwatch/mail/message_builder.h"
#include "serve_support.h"

namespace gw::test {

struct ParsedMailbox {
  std::string name;
  std::string address;
};

struct ParsedPart {
  std::string content_type;  // "text/plain"
  std::string charset;
  std::string encoding;  // Content-Transfer-Encoding
  std::string body;      // decoded
};

struct ParsedMail {
  bool ok = false;
  std::vector<std::string> header_names;       // top-level headers, in order
  std::map<std::string, std::string> headers;  // GMime's (decoded, unfolded) value per name
  std::string content_type;
  ParsedMailbox from, to, reply_to;
  std::string subject;  // decoded
  std::string message_id;
  std::vector<ParsedPart> parts;
};

inline std::string decoded_body(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(wrapper, out);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  std::string body(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(out);
  return body;
}

inline ParsedMailbox first_mailbox(InternetAddressList* list) {
  ParsedMailbox m;
  if (list == nullptr || internet_address_list_length(list) < 1) return m;
  InternetAddress* a = internet_address_list_get_address(list, 0);
  if (a->name != nullptr) m.name = internet_address_get_name(a);
  if (INTERNET_ADDRESS_IS_MAILBOX(a)) m.address = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
  return m;
}

inline ParsedMail parse_mail(const std::string& bytes) {
  g_mime_init();
  ParsedMail out;
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  g_object_unref(stream);
  if (message == nullptr) return out;
  out.ok = true;
  GMimeHeaderList* list = g_mime_object_get_header_list(GMIME_OBJECT(message));
  for (int i = 0; i < g_mime_header_list_get_count(list); ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    out.header_names.emplace_back(g_mime_header_get_name(h));
    const char* value = g_mime_header_get_value(h);
    out.headers[g_mime_header_get_name(h)] = value != nullptr ? value : "";
  }
  out.from = first_mailbox(g_mime_message_get_from(message));
  out.to = first_mailbox(g_mime_message_get_to(message));
  out.reply_to = first_mailbox(g_mime_message_get_reply_to(message));
  if (const char* s = g_mime_message_get_subject(message)) out.subject = s;
  if (const char* id = g_mime_message_get_message_id(message)) out.message_id = id;
  GMimeObject* body = g_mime_message_get_mime_part(message);
  GMimeContentType* type = g_mime_object_get_content_type(body);
  out.content_type =
      std::string(g_mime_content_type_get_media_type(type)) + "/" + g_mime_content_type_get_media_subtype(type);
  if (GMIME_IS_MULTIPART(body)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(body);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      GMimeObject* child = g_mime_multipart_get_part(multipart, i);
      if (!GMIME_IS_PART(child)) continue;
      ParsedPart p;
      GMimeContentType* ct = g_mime_object_get_content_type(child);
      p.content_type =
          std::string(g_mime_content_type_get_media_type(ct)) + "/" + g_mime_content_type_get_media_subtype(ct);
      if (const char* cs = g_mime_content_type_get_parameter(ct, "charset")) p.charset = cs;
      if (const char* cte = g_mime_object_get_header(child, "Content-Transfer-Encoding")) p.encoding = cte;
      p.body = decoded_body(GMIME_PART(child));
      out.parts.push_back(std::move(p));
    }
  }
  g_object_unref(message);
  return out;
}

// The signing key of the sample config, and the variable it is read from.
inline constexpr const char* kSampleMailKeyEnv = "GHOSTWATCH_TEST_MAIL_KEY";
inline constexpr const char* kSampleMailKey = "0123456789abcdef0123456789abcdef-test-only";

// An environment with only the sample's key, for parse_mail_config.
inline std::optional<std::string> sample_mail_env(const std::string& name) {
  if (name == kSampleMailKeyEnv) return std::string(kSampleMailKey);
  return std::nullopt;
}

// For configs read by a child process or load_mail_config (getenv).
inline void export_sample_mail_key() { ::setenv(kSampleMailKeyEnv, kSampleMailKey, 1); }

// [mail] and [smtp] sections that parse; tests change one key at a time.
inline const char* kSampleMailToml = R"([mail]
from = "Marketplace Reminders <reminders@marketplace.example>"
inbound_domain = "reply.marketplace.example"
public_url = "https://marketplace.example/"
templates = "templates"
secret_env = "GHOSTWATCH_TEST_MAIL_KEY"

[smtp]
url = "smtp://127.0.0.1:2525"
)";

// The example policy, with e-mail to `smtp_url` and no pacing per domain
// (the simulated addresses share two domains).
inline std::string example_policy_with_mail(const std::string& smtp_url) {
  return read_file(kExamplePolicy) + R"(
[mail]
from = "Marketplace Reminders <reminders@marketplace.example>"
inbound_domain = "reply.marketplace.example"
public_url = "https://ghostwatch.marketplace.example"
secret_env = ")" +
         std::string(kSampleMailKeyEnv) +
         R"("
templates = ")" +
         GHOSTWATCH_SOURCE_DIR + R"(/templates"

[smtp]
url = ")" +
         smtp_url + R"("
per_domain_per_minute = 1000000
retry_initial = "1s"
retry_max = "2s"
)";
}

// A nudge decision as `replay` writes it, and the Message-ID its e-mail carries.
struct SentNudge {
  std::string contract;
  std::int64_t episode = 0;
  int step = 0;
  std::string freelancer;
};

inline std::string message_id_of(const SentNudge& s) {
  return mail::message_id_for("anti-ghosting", {s.contract, s.episode}, s.step, "marketplace.example");
}

}  // namespace gw::test
