#include "ghostwatch/inbound/html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <strings.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <vector>

namespace gw::inbound {
namespace {

constexpr int kHtmlMaxDepth = 256;

bool html_name_is(const xmlNode* node, std::initializer_list<const char*> names) {
  const char* name = reinterpret_cast<const char*>(node->name);
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return strcasecmp(name, n) == 0; });
}

bool html_is_skipped(const xmlNode* node) {
  return html_name_is(node, {"script", "style", "head", "title", "noscript"});
}

bool html_is_paragraph(const xmlNode* node) {
  return html_name_is(node, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"});
}

bool html_is_block(const xmlNode* node) {
  return html_is_paragraph(node) ||
         html_name_is(node, {"div",      "li",      "tr",   "hr",    "section", "article", "header",
                             "footer",   "address", "dl",   "dt",    "dd",      "center",  "form",
                             "fieldset", "nav",     "main", "aside", "figure",  "body",    "html"});
}

// Collects text lines, each with the blockquote depth it started at.
class HtmlTextWriter {
 public:
  void text(std::string_view s, bool preformatted) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {  // no-break space
        c = ' ';
        ++i;
      }
      if (preformatted) {
        if (c == '\n') {
          end_line(true);
        } else {
          put(c);
        }
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        pending_space_ = !line_.empty();
      } else {
        if (pending_space_) line_ += ' ';
        pending_space_ = false;
        put(c);
      }
    }
  }

  // Ends the current line; `keep_empty` also records an empty one (<br>).
  void end_line(bool keep_empty) {
    if (!line_.empty() || keep_empty) lines_.push_back({line_depth_, line_});
    line_.clear();
    pending_space_ = false;
  }

  // A blank line between paragraphs, never two in a row.
  void paragraph_break() {
    end_line(false);
    if (!lines_.empty() && !lines_.back().text.empty()) lines_.push_back({depth_, ""});
  }

  void enter_quote() { ++depth_; }
  void leave_quote() { --depth_; }

  std::string finish() {
    end_line(false);
    while (!lines_.empty() && lines_.back().text.empty()) lines_.pop_back();
    std::string out;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (i > 0) out += '\n';
      for (int d = 0; d < lines_[i].depth; ++d) out += lines_[i].text.empty() ? ">" : "> ";
      out += lines_[i].text;
    }
    return out;
  }

 private:
  struct Line {
    int depth;
    std::string text;
  };

  void put(char c) {
    if (line_.empty()) line_depth_ = depth_;
    line_ += c;
  }

  std::vector<Line> lines_;
  std::string line_;
  int line_depth_ = 0;
  int depth_ = 0;
  bool pending_space_ = false;
};

void html_walk(const xmlNode* node, HtmlTextWriter& out, bool preformatted, int depth) {
  if (depth > kHtmlMaxDepth) return;
  for (const xmlNode* n = node; n != nullptr; n = n->next) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      if (n->content != nullptr) out.text(reinterpret_cast<const char*>(n->content), preformatted);
      continue;
    }
    if (n->type != XML_ELEMENT_NODE || n->name == nullptr || html_is_skipped(n)) continue;
    if (html_name_is(n, {"br"})) {
      out.end_line(true);
      continue;
    }
    const bool paragraph = html_is_paragraph(n);
    const bool block = html_is_block(n);
    const bool quote = html_name_is(n, {"blockquote"});
    if (paragraph) {
      out.paragraph_break();
    } else if (block) {
      out.end_line(false);
    }
    if (quote) out.enter_quote();
    if (html_name_is(n, {"td", "th"})) out.text(" ", false);
    html_walk(n->children, out, preformatted || html_name_is(n, {"pre"}), depth + 1);
    if (quote) out.leave_quote();
    if (paragraph) {
      out.paragraph_break();
    } else if (block) {
      out.end_line(false);
    }
  }
}

}  // namespace

std::string html_to_text(std::string_view html) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  const int size = static_cast<int>(std::min<std::size_t>(html.size(), INT_MAX));
  htmlDocPtr doc = htmlReadMemory(html.data(), size, nullptr, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  if (doc == nullptr) return "";
  HtmlTextWriter out;
  html_walk(xmlDocGetRootElement(doc), out, false, 0);
  xmlFreeDoc(doc);
  return out.finish();
}

}  // namespace gw::inbound
