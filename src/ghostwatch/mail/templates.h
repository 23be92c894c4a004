// The e-mail templates: for each template name and locale, three Mustache
// files in one directory,
//   <name>.<locale>.subject   one line, the Subject (not HTML-escaped)
//   <name>.<locale>.txt       the text/plain part (not HTML-escaped)
//   <name>.<locale>.html      the text/html part (every variable HTML-escaped)
// A TemplateSet is loaded and validated as a whole at startup: every file
// must parse, use only the variables of TemplateVariables (so a missing
// variable is a startup error naming the file and the variable, never a
// blank in a sent e-mail), and every name must have an `en` version, the
// fallback for locales it lacks. Triple mustaches and `{{&x}}` are refused
// in HTML files so that nothing reaches HTML unescaped.
// Thread-safe: immutable once loaded; render() may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"

namespace kainjow::mustache {
template <typename StringType>
class basic_mustache;
}  // namespace kainjow::mustache

namespace gw::mail {

// Every variable a template may use; the renderer supplies all of them.
struct TemplateVariables {
  std::string recipient_name;  // the person the e-mail goes to
  std::string freelancer_name;
  std::string client_name;
  std::string contract;          // the contract's id as the marketplace shows it
  std::string waited;            // how long the client's message has waited, in words (format_waited)
  std::string waited_hours;      // the same in whole hours, e.g. "26"
  std::string conversation_url;  // the contract's message room
  std::string opt_out_url;       // one-click opt-out from reminder e-mails
  std::string sender_name;       // the From name, for a signature
};

// The names of TemplateVariables' fields, in declaration order.
const std::vector<std::string_view>& template_variable_names();

// `waited` in words for `locale` (en and es; other locales get English),
// e.g. "26 hours", "3 days" / "26 horas", "3 días". Whole units, rounded down.
std::string format_waited(Duration waited, std::string_view locale);

struct RenderedMail {
  std::string subject;  // one line
  std::string text;
  std::string html;
};

class TemplateSet {
 public:
  // Loads and validates every template file in `dir`; other files are
  // ignored. The error names the file (and line and variable, if any).
  static Result<TemplateSet> load(const std::string& dir);

  // True when `name` has at least its `en` version.
  bool has(std::string_view name) const;
  // Template names, sorted.
  std::vector<std::string> names() const;
  // The locale render() uses for `locale`: the locale itself if `name` has
  // it, else its language ("es-MX" -> "es"), else "en". Case and '_' vs '-'
  // do not matter. REQUIRES: has(name).
  std::string resolve_locale(std::string_view name, std::string_view locale) const;

  // Renders `name` in resolve_locale(name, locale); an unknown name is an error.
  Result<RenderedMail> render(std::string_view name, std::string_view locale, const TemplateVariables& vars) const;

 private:
  struct Source {
    std::string path;
    // Parsed at load, with the part's escaping set; shared by copies of the
    // set and never modified after load.
    std::shared_ptr<const kainjow::mustache::basic_mustache<std::string>> parsed;
  };
  struct Localised {
    Source subject, text, html;
  };
  // name -> locale -> sources
  std::map<std::string, std::map<std::string, Localised>, std::less<>> templates_;
};

}  // namespace gw::mail
