#include "ghostwatch/mail/message_builder.h"

#include <fmt/format.h>
#include <gmime/gmime.h>

#include <mutex>
#include <utility>
#include <vector>

#include "ghostwatch/core/hex.h"
#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

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
std::string sha256_hex128(std::string_view s) { return sha256_hex(s).substr(0, 32); }

// A string GMime allocated, freed with g_free.
std::string take_gstring(char* p) {
  std::string out = p != nullptr ? p : "";
  g_free(p);
  return out;
}

// RFC 2047 UTF-8 encoded words (GMime's encoder) where `text` needs them;
// plain ASCII stays as it is. `phrase`: a display name, which is also
// quoted where RFC 5322 requires it.
std::string encode_header_words(const std::string& text, bool phrase) {
  if (text.empty()) return text;
  return take_gstring(phrase ? g_mime_utils_header_encode_phrase(nullptr, text.c_str(), "utf-8")
                             : g_mime_utils_header_encode_text(nullptr, text.c_str(), "utf-8"));
}

// Writes "Name: value" and CRLF, folding at the spaces between `words`
// (which are joined by one space) to keep lines within 78 characters where
// a word allows. Folding only inserts CRLF before an existing space, so
// unfolding gives back exactly the joined words: URLs, Message-IDs and
// encoded words are never split or re-encoded.
void write_header(std::string& out, std::string_view name, const std::vector<std::string>& words) {
  constexpr std::size_t kLine = 78;
  out += name;
  out += ':';
  std::size_t line = name.size() + 1;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0 && line + 1 + words[i].size() > kLine) {
      out += "\r\n";
      line = 0;
    }
    out += ' ';
    out += words[i];
    line += 1 + words[i].size();
  }
  out += "\r\n";
}

// `value` split at its spaces, the places write_header may fold.
std::vector<std::string> split_at_spaces(const std::string& value) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (true) {
    const std::size_t space = value.find(' ', start);
    words.push_back(value.substr(start, space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return words;
}

// Unstructured text (Subject, X- values), one line, encoded where needed.
std::vector<std::string> text_words(const std::string& text) {
  return split_at_spaces(encode_header_words(neutralise_header_text(text), false));
}

// A mailbox: the display name (encoded, quoted if needed) and <address>.
// The name is kept as one word: some parsers (GMime's among them) keep the
// line break of a fold inside a display name.
std::vector<std::string> mailbox_words(const std::string& name, const std::string& address) {
  std::vector<std::string> words;
  const std::string clean = neutralise_header_text(name);
  if (!clean.empty()) words.push_back(encode_header_words(clean, true));
  words.push_back("<" + address + ">");
  return words;
}

// A text part: UTF-8, quoted-printable (lines under 77 characters, the text
// readable), CRLF line ends.
void write_text_part(std::string& out, std::string_view subtype, const std::string& content) {
  out += fmt::format("Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
                     subtype);
  std::string lf;  // canonical LF line ends in, so a CR is never encoded as =0D
  lf.reserve(content.size());
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') continue;
    lf.push_back(content[i]);
  }
  GMimeEncoding qp;
  g_mime_encoding_init_encode(&qp, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  std::string encoded(g_mime_encoding_outlen(&qp, lf.size()), '\0');
  encoded.resize(g_mime_encoding_flush(&qp, lf.data(), lf.size(), encoded.data()));
  out.reserve(out.size() + encoded.size() + encoded.size() / 64 + 2);
  for (const char c : encoded) {
    if (c == '\n') out += '\r';
    out += c;
  }
  out += "\r\n";  // belongs to the boundary that follows (RFC 2046), not to the text
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

  std::string out;
  out.reserve(2048 + 2 * (spec.text.size() + spec.html.size()));
  GDateTime* date = g_date_time_new_from_unix_utc(floor_div(spec.date, kSecond));
  write_header(out, "Date", {take_gstring(g_mime_utils_header_format_date(date))});
  g_date_time_unref(date);
  write_header(out, "From", mailbox_words(spec.from.name, spec.from.address));
  write_header(out, "Reply-To", mailbox_words(spec.from.name, spec.reply_to));
  write_header(out, "To", mailbox_words(spec.to.name, spec.to.address));
  write_header(out, "Subject", text_words(spec.subject));
  write_header(out, "Message-ID", {"<" + spec.message_id + ">"});
  if (!spec.references.empty()) {
    write_header(out, "In-Reply-To", {"<" + spec.references.back() + ">"});
    std::vector<std::string> ids;
    for (const std::string& id : spec.references) ids.push_back("<" + id + ">");
    write_header(out, "References", ids);
  }
  // RFC 2369: angle-bracketed URLs, folded only after the comma.
  write_header(out, "List-Unsubscribe", {"<" + spec.unsubscribe_url + ">,", "<" + spec.unsubscribe_mailto + ">"});
  write_header(out, "List-Unsubscribe-Post", {"List-Unsubscribe=One-Click"});
  // RFC 3834: vacation responders must not answer; Exchange reads the second.
  write_header(out, "Auto-Submitted", {"auto-generated"});
  write_header(out, "X-Auto-Response-Suppress", {"OOF,", "AutoReply"});
  write_header(out, "X-Ghostwatch-Campaign", text_words(spec.campaign));
  write_header(out, "X-Ghostwatch-Arm", text_words(spec.arm));
  write_header(out, "MIME-Version", {"1.0"});
  // A boundary from the Message-ID keeps a rebuild byte-equal. "=_" never
  // occurs in quoted-printable text, so it cannot clash with a part.
  const std::string boundary = "=_" + sha256_hex128(spec.message_id);
  write_header(out, "Content-Type", {"multipart/alternative;", "boundary=\"" + boundary + "\""});
  out += "\r\n";
  for (const auto& [subtype, content] : {std::pair{"plain", &spec.text}, {"html", &spec.html}}) {
    out += "--" + boundary + "\r\n";
    write_text_part(out, subtype, *content);
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace gw::mail
