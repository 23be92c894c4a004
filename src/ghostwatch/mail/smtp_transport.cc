#include "ghostwatch/mail/smtp_transport.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

CURL* handle(void* p) { return static_cast<CURL*>(p); }

void ensure_curl() {
  // curl_global_init is not thread-safe in every libcurl build; once is enough.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// The server's replies, as libcurl's debug callback hands them over. A reply
// is one or more lines "ddd-text" ending with a line "ddd text" (RFC 5321
// 4.2). After a refusal libcurl still sends QUIT, so the refusal is kept
// apart from the "221 Bye" that follows it.
struct ReplyLog {
  std::string last;     // the last complete reply, lines joined by " / "
  std::string refusal;  // the first complete 4xx or 5xx reply
  std::string pending;  // lines of a multi-line reply still open
  void add_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) return;
    if (!pending.empty()) pending += " / ";
    pending += neutralise_header_text(line);
    if (line.size() < 4 || line[3] != '-') {
      last = std::move(pending);
      pending.clear();
      if (refusal.empty() && (last[0] == '4' || last[0] == '5')) refusal = last;
    }
  }
};

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;  // never look at what we send: it may hold the AUTH secret
  auto* log = static_cast<ReplyLog*>(user);
  std::string_view text(data, size);
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    log->add_line(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return 0;
}

// Failures of the session, not of the message: the same message may well go
// through once the TLS or login problem is fixed, so they are temporary even
// when the server's reply to STARTTLS or AUTH was a 5xx.
bool is_session_failure(CURLcode code) {
  switch (code) {
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return true;
    default: return false;
  }
}

}  // namespace

std::string_view send_outcome_name(SendOutcome outcome) {
  switch (outcome) {
    case SendOutcome::kSent: return "sent";
    case SendOutcome::kTemporaryFailure: return "temporary_failure";
    case SendOutcome::kPermanentFailure: return "permanent_failure";
  }
  return "unknown";
}

SmtpTransport::SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {
  ensure_curl();
  curl_ = curl_easy_init();
}

SmtpTransport::~SmtpTransport() {
  if (curl_ != nullptr) curl_easy_cleanup(handle(curl_));
}

SendResult SmtpTransport::send(std::string_view envelope_from, std::string_view rcpt, std::string_view mime_bytes) {
  SendResult result;
  if (!is_safe_address(envelope_from) || !is_safe_address(rcpt)) {
    result.outcome = SendOutcome::kPermanentFailure;
    result.reply = fmt::format("not a plain ASCII e-mail address: \"{}\"",
                               neutralise_header_text(is_safe_address(envelope_from) ? rcpt : envelope_from));
    return result;
  }
  if (curl_ == nullptr) {
    result.reply = "libcurl could not create a handle";
    return result;
  }
  CURL* curl = handle(curl_);
  const std::string from = fmt::format("<{}>", envelope_from);
  curl_slist* recipients = curl_slist_append(nullptr, fmt::format("<{}>", rcpt).c_str());
  Upload upload{mime_bytes};
  ReplyLog replies;
  char error[CURL_ERROR_SIZE] = "";

  // Every option is set for every message: the handle (and its connection
  // cache) is reused, the previous message's pointers are not.
  curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_USE_SSL, settings_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (!settings_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe beside other threads
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mime_bytes.size()));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  // The debug callback is the only place libcurl shows the server's reply text.
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &replies);

  const CURLcode code = curl_easy_perform(curl);
  long reply_code = 0;
  long new_connections = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply_code);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connections);
  // No pointer into this call's locals may outlive it in the handle.
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);
  curl_easy_setopt(curl, CURLOPT_READDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L);
  curl_slist_free_all(recipients);

  result.reply_code = static_cast<int>(reply_code);
  result.reused_connection = code == CURLE_OK && new_connections == 0;
  if (code == CURLE_OK) {
    result.outcome = SendOutcome::kSent;
    result.reply = replies.last;
    return result;
  }
  const std::string what = error[0] != '\0' ? error : curl_easy_strerror(code);
  // A refusal carries the server's words; a lost or silent connection only
  // curl's (the last reply then was some earlier "250 OK").
  result.reply = reply_code >= 400 && !replies.refusal.empty() ? fmt::format("{} ({})", replies.refusal, what) : what;
  result.outcome = reply_code >= 500 && reply_code < 600 && !is_session_failure(code) ? SendOutcome::kPermanentFailure
                                                                                      : SendOutcome::kTemporaryFailure;
  return result;
}

}  // namespace gw::mail
