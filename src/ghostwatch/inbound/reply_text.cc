#include "ghostwatch/inbound/reply_text.h"

#include <cstddef>

#include "ghostwatch/inbound/reply_markers.h"

namespace gw::inbound {
namespace {

enum class ReplyLineKind {
  kBlank,
  kText,
  kQuoted,
  kHeader,      // a strong quote header, a marker or a line of a header block
  kWeakHeader,  // "<name> wrote:": a header only directly above quoted lines
};

enum class ReplyFragmentKind { kText, kQuoted, kHeader };

// Lines a client may wrap a quote header over ("On <date>, <name>\n<address>\nwrote:").
constexpr std::size_t kReplyMaxWrappedLines = 4;
constexpr std::size_t kReplyMaxWrappedBytes = 400;
// Lines of a header block after its "From:" line.
constexpr std::size_t kReplyMaxHeaderBlockLines = 12;

std::string reply_normalise_newlines(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\r') {
      out.push_back(body[i]);
    } else {
      out.push_back('\n');
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    }
  }
  return out;
}

std::vector<std::string_view> reply_split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

ReplyLineKind reply_classify_line(std::string_view line) {
  if (trim_text(line).empty()) return ReplyLineKind::kBlank;
  if (is_quoted_line(line)) return ReplyLineKind::kQuoted;
  if (is_original_message_marker(line)) return ReplyLineKind::kHeader;
  switch (classify_quote_header(line)) {
    case QuoteHeader::kStrong: return ReplyLineKind::kHeader;
    case QuoteHeader::kWeak: return ReplyLineKind::kWeakHeader;
    case QuoteHeader::kNone: break;
  }
  return ReplyLineKind::kText;
}

// Marks quote headers wrapped over several lines: "On Dec 16, 2011, at
// 12:47 PM, Corey Donohoe" / "<reply@reply.github.com>" / "wrote:". A line
// that is a quote header of its own ("On …") is never a continuation, so
// text with a date right above a header stays text.
void reply_mark_wrapped_headers(const std::vector<std::string_view>& lines, std::vector<ReplyLineKind>& kinds) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (kinds[i] != ReplyLineKind::kText || !may_start_wrapped_quote_header(lines[i])) continue;
    std::string joined(trim_text(lines[i]));
    for (std::size_t j = i + 1; j < lines.size() && j < i + kReplyMaxWrappedLines; ++j) {
      if (kinds[j] == ReplyLineKind::kBlank || kinds[j] == ReplyLineKind::kQuoted) break;
      // A line that starts a header of its own ("On <date>, Ana") is never a
      // continuation: the line above it ("Gran Via, 1, Madrid") is text. An
      // address opened with '<' goes on whatever the next line starts with.
      if (kinds[j] == ReplyLineKind::kHeader && starts_like_quote_header(lines[j])) break;
      if (joined.back() != '<' && may_start_wrapped_quote_header(lines[j]) && starts_like_quote_header(lines[j])) {
        break;
      }
      joined += ' ';
      joined += trim_text(lines[j]);
      if (joined.size() > kReplyMaxWrappedBytes) break;
      if (classify_quote_header(joined) == QuoteHeader::kStrong) {
        for (std::size_t k = i; k <= j; ++k) kinds[k] = ReplyLineKind::kHeader;
        i = j;
        break;
      }
    }
  }
}

// True for a line of one repeated rule character ("====", "-----", "****").
bool reply_is_rule_line(std::string_view line) {
  const std::string_view t = trim_text(line);
  if (t.size() < 2 || t.size() > 100) return false;
  if (t.find_first_not_of("-_=*~#") != std::string_view::npos) return false;
  return t.find_first_not_of(t[0]) == std::string_view::npos;
}

// Above a header block's "From:" line: a date or subject line that some
// webmails put first ("Message du : 12/12/2016 13:20" / "De : …"), and a
// rule ("====") that sets the block off, with blank lines between.
void reply_mark_header_block_top(const std::vector<std::string_view>& lines, std::vector<ReplyLineKind>& kinds,
                                 std::size_t from) {
  constexpr std::size_t kMaxKeysAboveFrom = 2;
  std::size_t top = from;
  while (top > 0 && from - top < kMaxKeysAboveFrom && kinds[top - 1] != ReplyLineKind::kBlank &&
         kinds[top - 1] != ReplyLineKind::kQuoted && header_key(lines[top - 1]) == HeaderKey::kOther) {
    kinds[--top] = ReplyLineKind::kHeader;
  }
  std::size_t above = top;
  while (above > 0 && kinds[above - 1] == ReplyLineKind::kBlank) --above;
  if (above > 0 && kinds[above - 1] == ReplyLineKind::kText && reply_is_rule_line(lines[above - 1])) {
    kinds[above - 1] = ReplyLineKind::kHeader;
  }
}

// Marks header blocks of quoted or forwarded messages: a "From:" line and
// the date, recipient and subject lines right below it (a value wrapped
// onto the next line or two is part of the block). One other key is enough
// when the sender has an address, two are needed otherwise. A title between
// rules right above a header line ("---- Oprindelig besked ----") is a
// marker in any language.
void reply_mark_header_blocks(const std::vector<std::string_view>& lines, std::vector<ReplyLineKind>& kinds) {
  constexpr std::size_t kMaxWrappedValueLines = 2;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (kinds[i] == ReplyLineKind::kBlank || kinds[i] == ReplyLineKind::kQuoted) continue;
    if (i + 1 < lines.size() && is_decorated_title(lines[i]) && header_key(lines[i + 1]) != HeaderKey::kNone) {
      kinds[i] = ReplyLineKind::kHeader;
      continue;
    }
    if (is_flattened_header_block(lines[i])) {
      kinds[i] = ReplyLineKind::kHeader;
      continue;
    }
    if (header_key(lines[i]) != HeaderKey::kFrom) continue;
    std::size_t last = i;
    std::size_t others = 0;
    bool address = header_value_has_address(lines[i]);
    for (std::size_t j = i + 1, wrapped = 0; j < lines.size() && j <= i + kReplyMaxHeaderBlockLines; ++j) {
      if (kinds[j] == ReplyLineKind::kBlank || kinds[j] == ReplyLineKind::kQuoted) break;
      if (header_key(lines[j]) == HeaderKey::kOther) {
        ++others;
        last = j;
        wrapped = 0;
      } else if (++wrapped > kMaxWrappedValueLines) {
        break;
      } else if (others == 0) {
        address = address || lines[j].find('@') != std::string_view::npos;
      }
    }
    if (others >= 2 || (others == 1 && address)) {
      for (std::size_t k = i; k <= last; ++k) kinds[k] = ReplyLineKind::kHeader;
      reply_mark_header_block_top(lines, kinds, i);
      i = last;
    }
  }
}

bool reply_line_joins(ReplyFragmentKind fragment, ReplyLineKind line) {
  switch (fragment) {
    case ReplyFragmentKind::kText:
      return line == ReplyLineKind::kBlank || line == ReplyLineKind::kText || line == ReplyLineKind::kWeakHeader;
    case ReplyFragmentKind::kQuoted: return line != ReplyLineKind::kText;
    case ReplyFragmentKind::kHeader: return line == ReplyLineKind::kHeader;
  }
  return false;
}

ReplyFragmentKind reply_fragment_kind(ReplyLineKind line) {
  switch (line) {
    case ReplyLineKind::kQuoted: return ReplyFragmentKind::kQuoted;
    case ReplyLineKind::kHeader: return ReplyFragmentKind::kHeader;
    default: return ReplyFragmentKind::kText;
  }
}

// `line` without trailing spaces and tabs, unless it starts a signature
// ("-- " keeps its space).
std::string_view reply_line_without_trailing_space(std::string_view line) {
  const std::size_t end = line.find_last_not_of(" \t");
  if (end == std::string_view::npos || end + 1 == line.size()) return line.substr(0, end + 1);
  if (classify_signature_start(line) != SignatureStart::kNone) return line;
  return line.substr(0, end + 1);
}

// True when `rule` (a long "-------" or "_______") right below `above`
// underlines it: a table's column titles or a heading of three words or
// more ("Service Expire Date Description"), not a sign-off or a name.
bool reply_underlines(std::string_view above, std::string_view rule) {
  // "--" and "-- " are delimiters, never underlines.
  constexpr std::size_t kMinUnderline = 7;
  if (trim_text(rule).size() < kMinUnderline || !reply_is_rule_line(rule)) return false;
  const std::string_view t = trim_text(above);
  if (t.empty() || t.size() > 200 || t.back() == ',' || is_quoted_line(t)) return false;
  std::size_t words = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != ' ' && t[i] != '\t' && (i == 0 || t[i - 1] == ' ' || t[i - 1] == '\t')) ++words;
  }
  return words >= 3;
}

// Collects fragments from the bottom of the body up.
class ReplyScanner {
 public:
  ReplyScanner(const std::vector<std::string_view>& lines, std::size_t first_line)
      : lines_(lines), first_line_(first_line) {}

  void add_line_above(std::size_t index, ReplyLineKind kind) {
    if (open_ && kind_ == ReplyFragmentKind::kText) {
      const SignatureStart start = classify_signature_start(lines_[top_]);
      if ((start == SignatureStart::kStrong && !reply_underlines(lines_[index], lines_[top_])) ||
          (start == SignatureStart::kWeak && kind == ReplyLineKind::kBlank)) {
        signature_ = true;
        finish();
      }
    }
    // A footer on the body's first line ("Sent from iPhone" above the
    // reply, as some clients place it) ends nothing: it alone is hidden.
    if (index == first_line_ && kind == ReplyLineKind::kText && is_mobile_footer(lines_[index])) {
      finish();
      open_ = true;
      kind_ = ReplyFragmentKind::kText;
      top_ = bottom_ = index;
      signature_ = true;
      leading_footer_ = true;
      return;
    }
    if (open_ && reply_line_joins(kind_, kind)) {
      top_ = index;
      return;
    }
    finish();
    open_ = true;
    kind_ = reply_fragment_kind(kind);
    top_ = bottom_ = index;
    signature_ = false;
  }

  // The top of the body ends the last fragment like a blank line would.
  std::vector<ReplyFragment> finish_at_top() {
    if (open_ && kind_ == ReplyFragmentKind::kText && classify_signature_start(lines_[top_]) != SignatureStart::kNone) {
      signature_ = true;
    }
    finish();
    // Marked once here rather than at each header: linear however many
    // headers there are.
    for (std::size_t i = 0; i < hidden_below_; ++i) fragments_[i].hidden = true;
    return {fragments_.rbegin(), fragments_.rend()};
  }

 private:
  void finish() {
    if (!open_) return;
    open_ = false;
    ReplyFragment f;
    for (std::size_t i = top_; i <= bottom_; ++i) {
      if (i > top_) f.text += '\n';
      f.text += reply_line_without_trailing_space(lines_[i]);
    }
    f.quoted = kind_ == ReplyFragmentKind::kQuoted;
    f.header = kind_ == ReplyFragmentKind::kHeader;
    f.signature = signature_;
    // Nobody writes below "Sent from my iPhone": what follows is the quoted
    // message (Outlook and mobile clients put the footer above it).
    const bool footer = f.signature && is_mobile_footer(lines_[top_]);
    if (leading_footer_) {
      leading_footer_ = false;
      f.hidden = true;
    } else if (f.header || footer) {
      hidden_below_ = fragments_.size();  // all below it, marked at the top
      found_visible_ = false;
      f.hidden = true;
    } else if (!found_visible_) {
      if (f.quoted || f.signature || trim_text(f.text).empty()) {
        f.hidden = true;
      } else {
        found_visible_ = true;
      }
    }
    fragments_.push_back(std::move(f));
  }

  const std::vector<std::string_view>& lines_;
  const std::size_t first_line_;          // the first line that is not blank
  std::vector<ReplyFragment> fragments_;  // bottom first
  bool open_ = false;
  ReplyFragmentKind kind_ = ReplyFragmentKind::kText;
  std::size_t top_ = 0;
  std::size_t bottom_ = 0;
  bool signature_ = false;
  bool found_visible_ = false;
  bool leading_footer_ = false;
  std::size_t hidden_below_ = 0;  // fragments_[0, hidden_below_) lie below a header or footer
};

std::string_view reply_rstrip(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r' ||
                        s.back() == '\f' || s.back() == '\v' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

// `text` without its leading blank lines (indentation of the first line
// kept) and right-stripped.
std::string_view reply_without_blank_edge_lines(std::string_view text) {
  text = reply_rstrip(text);
  std::size_t start = 0;
  for (std::size_t eol = text.find('\n'); eol != std::string_view::npos; eol = text.find('\n', start)) {
    if (!trim_text(text.substr(start, eol - start)).empty()) break;
    start = eol + 1;
  }
  return trim_text(text).empty() ? std::string_view() : text.substr(start);
}

}  // namespace

std::vector<ReplyFragment> reply_fragments(std::string_view plain_body) {
  const std::string text = reply_normalise_newlines(plain_body);
  const std::vector<std::string_view> lines = reply_split_lines(text);
  std::vector<ReplyLineKind> kinds;
  kinds.reserve(lines.size());
  for (std::string_view line : lines) kinds.push_back(reply_classify_line(line));
  reply_mark_wrapped_headers(lines, kinds);
  reply_mark_header_blocks(lines, kinds);
  std::size_t first_line = 0;
  while (first_line < kinds.size() && kinds[first_line] == ReplyLineKind::kBlank) ++first_line;
  ReplyScanner scanner(lines, first_line);
  for (std::size_t i = lines.size(); i-- > 0;) scanner.add_line_above(i, kinds[i]);
  return scanner.finish_at_top();
}

std::string visible_text(const std::vector<ReplyFragment>& fragments) {
  std::string out;
  for (const ReplyFragment& f : fragments) {
    if (f.hidden || f.quoted || f.header) continue;
    const std::string_view text = reply_without_blank_edge_lines(f.text);
    if (text.empty()) continue;
    if (!out.empty()) out += '\n';
    out += text;
  }
  return out;
}

std::string visible_reply(std::string_view plain_body) { return visible_text(reply_fragments(plain_body)); }

}  // namespace gw::inbound
