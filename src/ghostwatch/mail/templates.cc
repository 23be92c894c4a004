#include "ghostwatch/mail/templates.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>

namespace gw::mail {
namespace {

namespace fs = std::filesystem;
namespace mstch = kainjow::mustache;

enum class Part { kSubject, kText, kHtml };

// The variables' names paired with their values, one place for both lists.
std::vector<std::pair<std::string_view, const std::string*>> fields(const TemplateVariables& v) {
  return {{"recipient_name", &v.recipient_name},
          {"freelancer_name", &v.freelancer_name},
          {"client_name", &v.client_name},
          {"contract", &v.contract},
          {"waited", &v.waited},
          {"waited_hours", &v.waited_hours},
          {"conversation_url", &v.conversation_url},
          {"opt_out_url", &v.opt_out_url},
          {"sender_name", &v.sender_name}};
}

std::string normalise_locale(std::string_view locale) {
  std::string out(locale);
  for (char& c : out) {
    if (c == '_') c = '-';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_template_name(std::string_view s) {
  if (s.empty() || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// "en", "es", "pt-br", "zh-hant": a 2-3 letter language, optional subtag.
bool is_locale(std::string_view s) {
  const std::size_t dash = s.find('-');
  const std::string_view lang = s.substr(0, dash);
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  if (lang.size() < 2 || lang.size() > 3 || !std::all_of(lang.begin(), lang.end(), lower)) return false;
  if (dash == std::string_view::npos) return true;
  const std::string_view sub = s.substr(dash + 1);
  return sub.size() >= 2 && sub.size() <= 8 &&
         std::all_of(sub.begin(), sub.end(), [&](char c) { return lower(c) || (c >= '0' && c <= '9'); });
}

// Checks every tag of a template against the known variables. kainjow has no
// public way to walk a parsed template, and rendering visits only the branch
// a section takes, so the tags are scanned here; kainjow itself then checks
// the syntax (unclosed sections and the like).
Status check_tags(const std::string& path, const std::string& text, Part part) {
  const std::vector<std::string_view>& known = template_variable_names();
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string::npos) {
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
    const bool triple = text.compare(pos, 3, "{{{") == 0;
    const std::string_view close = triple ? "}}}" : "}}";
    const std::size_t start = pos + close.size();
    const std::size_t end = text.find(close, start);
    if (end == std::string::npos) return Status::error(fmt::format("{}:{}: unclosed tag", path, line));
    std::string_view tag = std::string_view(text).substr(start, end - start);
    pos = end + close.size();
    const auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    tag = trim(tag);
    const char sigil = tag.empty() ? '\0' : tag.front();
    if (!triple && sigil == '!') continue;  // a comment
    if (!triple && (sigil == '=' || sigil == '>' || sigil == '<')) {
      return Status::error(
          fmt::format("{}:{}: {{{{{}}}}}: set-delimiter and partial tags are not supported", path, line, tag));
    }
    const bool unescaped = triple || sigil == '&';
    if (unescaped && part == Part::kHtml) {
      return Status::error(fmt::format(
          "{}:{}: unescaped variable in an HTML template; use {{{{name}}}}, which is HTML-escaped", path, line));
    }
    std::string_view name = tag;
    if (!triple && (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '&')) name = trim(tag.substr(1));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Status::error(
          fmt::format("{}:{}: unknown variable \"{}\" (known: {})", path, line, name, fmt::join(known, ", ")));
    }
  }
  return Status::ok();
}

Result<std::string> read_template_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot read the template file", path.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  // Templates edited on Windows render like the rest; the MIME writer emits CRLF.
  std::string text = buffer.str();
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  return text;
}

// kainjow's own escape writes &apos;, which is HTML5 only: Outlook's Word
// engine shows it literally. &#39; works in every mail client.
std::string escape_html(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// kainjow's render() is not const, so each render works on its own copy of
// the parsed template: copying the parsed tree costs a fraction of parsing.
std::string render_part(const mstch::mustache& parsed, const mstch::data& data, std::string& error) {
  mstch::mustache tmpl = parsed;
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) error = tmpl.error_message();
  return out;
}

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

const std::vector<std::string_view>& template_variable_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& [name, value] : fields(TemplateVariables{})) out.push_back(name);
    return out;
  }();
  return names;
}

std::string format_waited(Duration waited, std::string_view locale) {
  const std::string language = normalise_locale(locale.substr(0, locale.find_first_of("-_")));
  const bool spanish = language == "es";
  const std::int64_t hours = std::max<Duration>(waited, 0) / kHour;
  if (hours < 1) return spanish ? "menos de una hora" : "less than an hour";
  // Up to two days, hours read better than "1 day" for a 47-hour wait.
  if (hours < 48) return spanish ? plural(hours, "hora", "horas") : plural(hours, "hour", "hours");
  return spanish ? plural(hours / 24, "día", "días") : plural(hours / 24, "day", "days");
}

Result<TemplateSet> TemplateSet::load(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return Status::error(fmt::format("{}: cannot read the template directory: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());  // the first error is the same on every machine

  TemplateSet set;
  // name -> locale -> which parts were found, to report a missing one
  std::map<std::string, std::map<std::string, int>> found;
  for (const fs::path& path : files) {
    const std::string ext = path.extension().string();
    Part part;
    if (ext == ".subject") {
      part = Part::kSubject;
    } else if (ext == ".txt") {
      part = Part::kText;
    } else if (ext == ".html") {
      part = Part::kHtml;
    } else {
      continue;  // READMEs and the like
    }
    const std::string stem = path.stem().string();
    const std::size_t dot = stem.rfind('.');
    const std::string name = dot == std::string::npos ? "" : stem.substr(0, dot);
    const std::string locale = dot == std::string::npos ? "" : stem.substr(dot + 1);
    if (!is_template_name(name) || !is_locale(locale)) {
      return Status::error(fmt::format(
          "{}: a template file is named <name>.<locale>{} with a name of a-z, 0-9 and '-' and a locale like "
          "\"en\" or \"pt-br\" (lower case)",
          path.string(), ext));
    }
    Result<std::string> text = read_template_file(path);
    if (!text) return text.status();
    if (part == Part::kSubject) {
      std::string& subject = *text;
      if (!subject.empty() && subject.back() == '\n') subject.pop_back();
      if (subject.empty() || subject.find('\n') != std::string::npos) {
        return Status::error(fmt::format("{}: a subject file holds exactly one non-empty line", path.string()));
      }
    }
    if (Status checked = check_tags(path.string(), *text, part); !checked) return checked;
    auto parsed = std::make_shared<mstch::mustache>(*text);
    if (!parsed->is_valid()) return Status::error(fmt::format("{}: {}", path.string(), parsed->error_message()));
    if (part == Part::kHtml) {
      parsed->set_custom_escape(escape_html);
    } else {
      parsed->set_custom_escape([](const std::string& s) { return s; });
    }
    Localised& l = set.templates_[name][locale];
    Source& slot = part == Part::kSubject ? l.subject : part == Part::kText ? l.text : l.html;
    slot = Source{path.string(), std::move(parsed)};
    found[name][locale] |= 1 << static_cast<int>(part);
  }
  for (const auto& [name, locales] : found) {
    for (const auto& [locale, parts] : locales) {
      for (const auto& [bit, ext] : {std::pair{0, "subject"}, {1, "txt"}, {2, "html"}}) {
        if ((parts & (1 << bit)) == 0) {
          return Status::error(fmt::format("{}: missing: every template needs .subject, .txt and .html files",
                                           (fs::path(dir) / fmt::format("{}.{}.{}", name, locale, ext)).string()));
        }
      }
    }
    if (!locales.count("en")) {
      return Status::error(fmt::format("{}: missing: the en version is the fallback for other locales",
                                       (fs::path(dir) / (name + ".en.txt")).string()));
    }
  }
  return set;
}

bool TemplateSet::has(std::string_view name) const { return templates_.find(name) != templates_.end(); }

std::vector<std::string> TemplateSet::names() const {
  std::vector<std::string> out;
  for (const auto& [name, locales] : templates_) out.push_back(name);
  return out;
}

std::string TemplateSet::resolve_locale(std::string_view name, std::string_view locale) const {
  const auto& locales = templates_.find(name)->second;
  std::string wanted = normalise_locale(locale);
  if (locales.count(wanted)) return wanted;
  wanted = wanted.substr(0, wanted.find('-'));
  if (locales.count(wanted)) return wanted;
  return "en";
}

Result<RenderedMail> TemplateSet::render(std::string_view name, std::string_view locale,
                                         const TemplateVariables& vars) const {
  const auto it = templates_.find(name);
  if (it == templates_.end()) return Status::error(fmt::format("no template named \"{}\"", name));
  const Localised& l = it->second.at(resolve_locale(name, locale));
  mstch::data data;
  for (const auto& [key, value] : fields(vars)) data.set(std::string(key), *value);
  RenderedMail out;
  std::string error;
  const auto part = [&](const Source& source, std::string& into) {
    if (!error.empty()) return;
    into = render_part(*source.parsed, data, error);
    if (!error.empty()) error = fmt::format("{}: {}", source.path, error);
  };
  part(l.subject, out.subject);
  part(l.text, out.text);
  part(l.html, out.html);
  if (!error.empty()) return Status::error(error);
  return out;
}

}  // namespace gw::mail
