#include "ghostwatch/inbound/mime_text.h"

#include <fmt/format.h>
#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>

#include "ghostwatch/inbound/html_text.h"
#include "ghostwatch/inbound/reply_markers.h"

namespace gw::inbound {
namespace {

constexpr int kMimeMaxDepth = 64;

struct MimeGFree {
  void operator()(char* p) const { g_free(p); }
};
using MimeGString = std::unique_ptr<char, MimeGFree>;

struct MimeUnref {
  void operator()(void* p) const { g_object_unref(p); }
};

std::string mime_valid_utf8(const char* data, std::size_t size) {
  if (g_utf8_validate(data, static_cast<gssize>(size), nullptr)) return std::string(data, size);
  MimeGString valid(g_utf8_make_valid(data, static_cast<gssize>(size)));
  return valid ? std::string(valid.get()) : std::string();
}

std::string mime_valid_utf8(const char* s) { return s == nullptr ? std::string() : mime_valid_utf8(s, std::strlen(s)); }

// The part's content, transfer encoding undone, converted from its charset.
std::string mime_decoded_text(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (wrapper == nullptr) return "";
  std::unique_ptr<GMimeStream, MimeUnref> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  // NUL is never text; dropping it keeps the C-string APIs below whole.
  std::string data(reinterpret_cast<const char*>(bytes->data), bytes->len);
  data.erase(std::remove(data.begin(), data.end(), '\0'), data.end());
  const gssize size = static_cast<gssize>(data.size());
  const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  const char* iconv_name = charset != nullptr ? g_mime_charset_iconv_name(charset) : nullptr;
  // UTF-8 and ASCII need no conversion; anything else does even when its
  // bytes happen to be valid UTF-8 (UTF-7 is plain ASCII).
  const bool utf8_compatible = iconv_name == nullptr || g_ascii_strcasecmp(iconv_name, "UTF-8") == 0 ||
                               g_ascii_strcasecmp(iconv_name, "US-ASCII") == 0 ||
                               g_ascii_strcasecmp(iconv_name, "ASCII") == 0;
  if (utf8_compatible && g_utf8_validate(data.data(), size, nullptr)) return data;
  if (!utf8_compatible) {
    gsize written = 0;
    MimeGString converted(g_convert(data.data(), size, "UTF-8", iconv_name, nullptr, &written, nullptr));
    if (converted) return mime_valid_utf8(converted.get(), written);
  }
  // No charset, a wrong one, or one iconv does not know: GMime's guess from the bytes.
  MimeGString guessed(g_mime_utils_decode_8bit(nullptr, data.data(), data.size()));
  return guessed ? mime_valid_utf8(guessed.get()) : mime_valid_utf8(data.data(), data.size());
}

struct MimeBodies {
  GMimePart* plain = nullptr;
  GMimePart* html = nullptr;
  GMimeObject* delivery_status = nullptr;
};

void mime_find_bodies(GMimeObject* object, MimeBodies& found, int depth) {
  if (object == nullptr || depth > kMimeMaxDepth) return;
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type != nullptr && g_mime_content_type_is_type(type, "message", "delivery-status") &&
      found.delivery_status == nullptr) {
    found.delivery_status = object;
  }
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) mime_find_bodies(g_mime_multipart_get_part(multipart, i), found, depth + 1);
    return;
  }
  if (!GMIME_IS_PART(object) || type == nullptr) return;
  GMimePart* part = GMIME_PART(object);
  if (g_mime_part_is_attachment(part)) return;
  if (found.plain == nullptr && g_mime_content_type_is_type(type, "text", "plain")) found.plain = part;
  if (found.html == nullptr && g_mime_content_type_is_type(type, "text", "html")) found.html = part;
}

// The raw text of a message/delivery-status part: GMime may read it as a
// leaf part or as an embedded message (its header block).
std::string mime_delivery_status_text(GMimeObject* object) {
  if (GMIME_IS_PART(object)) return mime_decoded_text(GMIME_PART(object));
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner == nullptr) return "";
    MimeGString text(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
    return mime_valid_utf8(text.get());
  }
  return "";
}

void mime_add_mailboxes(InternetAddressList* list, std::vector<std::pair<std::string, std::string>>& out, int depth) {
  if (list == nullptr || depth > 4) return;
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      mime_add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out, depth + 1);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      out.emplace_back(mime_valid_utf8(internet_address_get_name(address)),
                       mime_valid_utf8(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address))));
    }
  }
}

std::string mime_header(GMimeMessage* message, const char* name) {
  return std::string(trim_text(mime_valid_utf8(g_mime_object_get_header(GMIME_OBJECT(message), name))));
}

// A header's first token, before any ';' parameters, folded.
std::string mime_header_token(GMimeMessage* message, const char* name) {
  std::string value = mime_header(message, name);
  value = std::string(trim_text(value.substr(0, value.find(';'))));
  return fold_case(value);
}

bool mime_is_auto_reply(GMimeMessage* message, std::string_view subject) {
  const std::string auto_submitted = mime_header_token(message, "Auto-Submitted");
  if (!auto_submitted.empty() && auto_submitted != "no") return true;
  if (g_mime_object_get_header(GMIME_OBJECT(message), "X-Autoreply") != nullptr) return true;
  if (g_mime_object_get_header(GMIME_OBJECT(message), "X-Autorespond") != nullptr) return true;
  const std::string precedence = mime_header_token(message, "Precedence");
  if (precedence == "auto_reply" || precedence == "bulk" || precedence == "junk") return true;
  return is_auto_reply_subject(subject);
}

void mime_read_bounce(GMimeMessage* message, const MimeBodies& bodies, InboundMessage& out) {
  GMimeObject* top = g_mime_message_get_mime_part(message);
  GMimeContentType* type = top != nullptr ? g_mime_object_get_content_type(top) : nullptr;
  const char* report_type = type != nullptr ? g_mime_content_type_get_parameter(type, "report-type") : nullptr;
  const bool report = type != nullptr && g_mime_content_type_is_type(type, "multipart", "report") &&
                      report_type != nullptr && g_ascii_strcasecmp(report_type, "delivery-status") == 0;
  out.bounce = report || bodies.delivery_status != nullptr;
  if (bodies.delivery_status != nullptr) {
    out.failed_recipient = delivery_status_failed_recipient(mime_delivery_status_text(bodies.delivery_status));
  }
  if (out.failed_recipient.empty()) {
    const std::string failed = mime_header(message, "X-Failed-Recipients");
    out.failed_recipient = std::string(trim_text(failed.substr(0, failed.find(','))));
    if (!out.failed_recipient.empty()) out.bounce = true;
  }
}

// "rfc822; user@example.com" → "user@example.com".
std::string_view mime_recipient_value(std::string_view value) {
  const std::size_t semicolon = value.find(';');
  if (semicolon != std::string_view::npos) value = value.substr(semicolon + 1);
  value = trim_text(value);
  if (value.size() >= 2 && value.front() == '<' && value.back() == '>') value = value.substr(1, value.size() - 2);
  return value;
}

}  // namespace

std::string delivery_status_failed_recipient(std::string_view status_body) {
  // Blocks are separated by blank lines; the first is per-message.
  std::string first_recipient;
  std::string final_recipient, original_recipient;
  bool failed = false;
  auto close_block = [&]() -> std::string {
    std::string recipient = !final_recipient.empty() ? final_recipient : original_recipient;
    if (first_recipient.empty()) first_recipient = recipient;
    std::string result = failed ? recipient : std::string();
    final_recipient.clear();
    original_recipient.clear();
    failed = false;
    return result;
  };
  std::size_t start = 0;
  while (start <= status_body.size()) {
    std::size_t end = status_body.find('\n', start);
    if (end == std::string_view::npos) end = status_body.size();
    const std::string_view line = trim_text(status_body.substr(start, end - start));
    start = end + 1;
    if (line.empty()) {
      if (std::string r = close_block(); !r.empty()) return r;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = fold_case(trim_text(line.substr(0, colon)));
    const std::string_view value = trim_text(line.substr(colon + 1));
    if (key == "final-recipient") final_recipient = std::string(mime_recipient_value(value));
    if (key == "original-recipient") original_recipient = std::string(mime_recipient_value(value));
    if (key == "action" && fold_case(value).rfind("failed", 0) == 0) failed = true;
  }
  if (std::string r = close_block(); !r.empty()) return r;
  return first_recipient;
}

bool is_auto_reply_subject(std::string_view subject) {
  static constexpr std::string_view kPhrases[] = {"automatic reply",
                                                  "auto reply",
                                                  "autoreply",
                                                  "auto-reply",
                                                  "auto response",
                                                  "autoresponse",
                                                  "auto-response",
                                                  "out of office",
                                                  "out of the office",
                                                  "away from the office",
                                                  "abwesenheitsnotiz",
                                                  "automatische antwort",
                                                  "abwesend",
                                                  "réponse automatique",
                                                  "absence du bureau",
                                                  "respuesta automática",
                                                  "fuera de la oficina",
                                                  "resposta automática",
                                                  "ausente do escritório",
                                                  "risposta automatica",
                                                  "fuori ufficio",
                                                  "automatisch antwoord",
                                                  "afwezig",
                                                  "automatyczna odpowiedź",
                                                  "poza biurem",
                                                  "автоответ",
                                                  "автоматический ответ",
                                                  "自动回复",
                                                  "自動回覆",
                                                  "自動応答",
                                                  "自動返信",
                                                  "不在",
                                                  "automatiskt svar",
                                                  "automatisk svar",
                                                  "automaattinen vastaus"};
  const std::string folded = fold_case(trim_text(subject));
  if (folded.rfind("auto:", 0) == 0) return true;
  return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                     [&](std::string_view p) { return folded.find(p) != std::string::npos; });
}

Result<InboundMessage> read_inbound_message(std::string_view raw, std::string_view source) {
  static std::once_flag init;
  std::call_once(init, [] { g_mime_init(); });
  std::unique_ptr<GMimeStream, MimeUnref> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  std::unique_ptr<GMimeParser, MimeUnref> parser(g_mime_parser_new_with_stream(stream.get()));
  std::unique_ptr<GMimeMessage, MimeUnref> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return Status::error(fmt::format("{}: not an e-mail message (no header or body found)", source));

  InboundMessage out;
  std::vector<std::pair<std::string, std::string>> mailboxes;
  mime_add_mailboxes(g_mime_message_get_from(message.get()), mailboxes, 0);
  if (!mailboxes.empty()) {
    out.from_name = mailboxes.front().first;
    out.from_address = mailboxes.front().second;
  }
  mailboxes.clear();
  mime_add_mailboxes(g_mime_message_get_to(message.get()), mailboxes, 0);
  for (auto& [name, address] : mailboxes) out.to_addresses.push_back(std::move(address));
  out.recipients = out.to_addresses;
  mailboxes.clear();
  mime_add_mailboxes(g_mime_message_get_cc(message.get()), mailboxes, 0);
  for (const char* header : {"Delivered-To", "X-Original-To"}) {
    if (const char* value = g_mime_object_get_header(GMIME_OBJECT(message.get()), header)) {
      std::unique_ptr<InternetAddressList, MimeUnref> list(internet_address_list_parse(nullptr, value));
      mime_add_mailboxes(list.get(), mailboxes, 0);
    }
  }
  for (auto& [name, address] : mailboxes) out.recipients.push_back(std::move(address));
  out.subject = mime_valid_utf8(g_mime_message_get_subject(message.get()));
  out.message_id = mime_valid_utf8(g_mime_message_get_message_id(message.get()));
  if (const char* in_reply_to = g_mime_object_get_header(GMIME_OBJECT(message.get()), "In-Reply-To")) {
    GMimeReferences* refs = g_mime_references_parse(nullptr, in_reply_to);
    if (refs != nullptr) {
      if (g_mime_references_length(refs) > 0)
        out.in_reply_to = mime_valid_utf8(g_mime_references_get_message_id(refs, 0));
      g_mime_references_free(refs);
    }
  }

  MimeBodies bodies;
  mime_find_bodies(g_mime_message_get_mime_part(message.get()), bodies, 0);
  if (bodies.plain != nullptr) {
    out.text = mime_decoded_text(bodies.plain);
  } else if (bodies.html != nullptr) {
    out.text = html_to_text(mime_decoded_text(bodies.html));
    out.text_from_html = true;
  }
  out.auto_reply = mime_is_auto_reply(message.get(), out.subject);
  mime_read_bounce(message.get(), bodies, out);
  return out;
}

}  // namespace gw::inbound
