#include "ghostwatch/mail/message_builder.h"

#include <fmt/format.h>
#include <gmime/gmime.h>
#include <openssl/sha.h>

#include <memory>
#include <mutex>

#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// A Message-ID or URL may hold no control character, space or angle
// bracket: each would end the `<...>` it is written in.
bool is_safe_token(std::string_view s) {
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '<' || c == '>' || c == ',') return false;
  }
  return !s.empty();
}

bool is_safe_message_id(std::string_view id) {
  const std::size_t at = id.find('@');
  return is_safe_token(id) && at != std::string_view::npos && at > 0 && at + 1 < id.size() &&
         id.find('@', at + 1) == std::string_view::npos;
}

// The first 128 bits of SHA-256(s) as 32 lower-case hex digits.
std::string sha256_hex128(std::string_view s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  std::string hex;
  for (int i = 0; i < 16; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

void add_mailbox(InternetAddressList* list, const std::string& name, const std::string& address) {
  GPtr<InternetAddress> mailbox(internet_address_mailbox_new(neutralise_header_text(name).c_str(), address.c_str()));
  // GMime picks iso-8859-1 for names it can; UTF-8 everywhere is simpler for
  // every reader and for our own tests.
  internet_address_set_charset(mailbox.get(), "utf-8");
  internet_address_list_add(list, mailbox.get());
}

GPtr<GMimePart> text_part(const char* subtype, const std::string& content) {
  GPtr<GMimePart> part(g_mime_part_new_with_type("text", subtype));
  // Not g_mime_text_part_set_text: it re-encodes to the "best" charset,
  // often iso-8859-1; we send the UTF-8 we rendered.
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(content.data(), content.size()));
  GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part.get(), wrapper.get());
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "charset", "utf-8");
  // Quoted-printable keeps lines under 78 characters and the text readable.
  g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return part;
}

Status check_spec(const MessageSpec& s) {
  const auto address = [](std::string_view field, const std::string& value) {
    return is_safe_address(value) ? Status::ok()
                                  : Status::error(fmt::format("{}: not a plain ASCII e-mail address: \"{}\"", field,
                                                              neutralise_header_text(value)));
  };
  for (const Status& st : {address("from.address", s.from.address), address("to.address", s.to.address),
                           address("reply_to", s.reply_to)}) {
    if (!st) return st;
  }
  if (!is_safe_message_id(s.message_id)) return Status::error("message_id: not a valid Message-ID");
  for (const std::string& ref : s.references) {
    if (!is_safe_message_id(ref)) return Status::error("references: not a valid Message-ID");
  }
  if (!is_safe_https_url(s.unsubscribe_url)) {
    return Status::error("unsubscribe_url: must be an https:// URL without spaces, commas or control characters");
  }
  if (!is_safe_token(s.unsubscribe_mailto) || s.unsubscribe_mailto.rfind("mailto:", 0) != 0) {
    return Status::error("unsubscribe_mailto: must be a mailto: URL without spaces, commas or control characters");
  }
  return Status::ok();
}

}  // namespace

std::string message_id_for(std::string_view campaign, const EpisodeRef& episode, int step, std::string_view domain) {
  // Lengths first, so no two different inputs share a hash input.
  const std::string input = fmt::format("{}:{}\n{}:{}\n{}\n{}", campaign.size(), campaign, episode.contract.size(),
                                        episode.contract, episode.episode, step);
  return fmt::format("gw-{}@{}", sha256_hex128(input), domain);
}

Result<std::string> build_mime(const MessageSpec& spec) {
  if (Status checked = check_spec(spec); !checked) return checked;
  ensure_gmime();

  GPtr<GMimeMessage> message(g_mime_message_new(TRUE));
  GMimeObject* headers = GMIME_OBJECT(message.get());
  add_mailbox(g_mime_message_get_from(message.get()), spec.from.name, spec.from.address);
  add_mailbox(g_mime_message_get_to(message.get()), spec.to.name, spec.to.address);
  add_mailbox(g_mime_message_get_reply_to(message.get()), spec.from.name, spec.reply_to);
  g_mime_message_set_subject(message.get(), neutralise_header_text(spec.subject).c_str(), "utf-8");
  GDateTime* date = g_date_time_new_from_unix_utc(floor_div(spec.date, kSecond));
  g_mime_message_set_date(message.get(), date);
  g_date_time_unref(date);
  g_mime_message_set_message_id(message.get(), spec.message_id.c_str());
  if (!spec.references.empty()) {
    g_mime_object_set_header(headers, "In-Reply-To", fmt::format("<{}>", spec.references.back()).c_str(), nullptr);
    g_mime_object_set_header(headers, "References", fmt::format("<{}>", fmt::join(spec.references, "> <")).c_str(),
                             nullptr);
  }
  g_mime_object_set_header(headers, "List-Unsubscribe",
                           fmt::format("<{}>, <{}>", spec.unsubscribe_url, spec.unsubscribe_mailto).c_str(), nullptr);
  g_mime_object_set_header(headers, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", nullptr);
  // RFC 3834: vacation responders must not answer; Exchange reads the second.
  g_mime_object_set_header(headers, "Auto-Submitted", "auto-generated", nullptr);
  g_mime_object_set_header(headers, "X-Auto-Response-Suppress", "OOF, AutoReply", nullptr);
  g_mime_object_set_header(headers, "X-Ghostwatch-Campaign", neutralise_header_text(spec.campaign).c_str(), "utf-8");
  g_mime_object_set_header(headers, "X-Ghostwatch-Arm", neutralise_header_text(spec.arm).c_str(), "utf-8");

  GPtr<GMimeMultipart> alternative(g_mime_multipart_new_with_subtype("alternative"));
  // GMime's default boundary is random; this one keeps a rebuild byte-equal.
  // "=_" never occurs in quoted-printable text, so it cannot clash with a part.
  g_mime_multipart_set_boundary(alternative.get(), ("=_" + sha256_hex128(spec.message_id)).c_str());
  GPtr<GMimePart> text = text_part("plain", spec.text);
  GPtr<GMimePart> html = text_part("html", spec.html);
  g_mime_multipart_add(alternative.get(), GMIME_OBJECT(text.get()));
  g_mime_multipart_add(alternative.get(), GMIME_OBJECT(html.get()));
  g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(alternative.get()));

  GMimeFormatOptions* format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  char* bytes = g_mime_object_to_string(headers, format);
  g_mime_format_options_free(format);
  std::string out(bytes);
  g_free(bytes);
  return out;
}

}  // namespace gw::mail
