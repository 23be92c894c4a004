#include "ghostwatch/inbound/reply_markers.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace gw::inbound {
namespace {

// Every phrase below is written folded (fold_case): lower case.

// The verb that ends a quote header: "… wrote:", "… a écrit :", "…写道：".
constexpr std::string_view kMarkerWroteWords[] = {
    "wrote", "writes", "escribió", "escribio", "escreveu", "a écrit", "écrit", "a ecrit", "schrieb", "geschrieben",
    "ha scritto", "scritto", "schreef", "geschreven", "napisał", "napisała", "napisał(a)", "napisal", "napisala",
    "napisal(a)", "pisze", "написал", "написала", "написал(а)", "пишет", "написав", "skrev", "kirjoitti", "napsal",
    "napsala", "napsal(a)", "napísal", "yazdı", "írta", "έγραψε", "a scris", "đã viết", "menulis", "kirjutas", "rašė",
    "rakstīja", "escrigué", "va escriure", "написа", "写道", "寫道", "のメッセージ", "書きました", "작성", "님이 작성",
    "kirjoittaa", "escribieron", "ha escrit",
    // Hebrew, Arabic, Persian, South Slavic, Slovak, Thai, Hindi, Filipino.
    "כתב", "כתבה", "כתב/ה", "كتب", "نوشت", "napisao", "napisala", "napisao/la", "napisao(la)", "написао", "napísala",
    "napísal(a)", "เขียน", "เขียนว่า", "ने लिखा", "लिखा", "sumulat", "пише"};

// Verbs some clients put before the name: "Am 1.1.2023 um 10:00 schrieb Max:".
constexpr std::string_view kMarkerInnerWroteWords[] = {"schrieb", "schreef", "skrev", "napisał", "kirjoitti", "كتب"};

// Words a quote header starts with, before its date.
constexpr std::string_view kMarkerLeadWords[] = {"on",     "el",   "em", "le",     "am",  "il",   "op",
                                                 "w dniu", "dnia", "в",  "den",    "dne", "pada", "vào",
                                                 "στις",   "на",   "在", "בתאריך", "في",  "در",   "เมื่อ"};

constexpr std::string_view kMarkerOriginalPhrases[] = {"original message",
                                                       "forwarded message",
                                                       "begin forwarded message",
                                                       "message d'origine",
                                                       "message d’origine",
                                                       "message original",
                                                       "message transféré",
                                                       "début du message réexpédié",
                                                       "début du message transféré",
                                                       "mensaje original",
                                                       "mensaje reenviado",
                                                       "inicio del mensaje reenviado",
                                                       "comienzo del mensaje reenviado",
                                                       "mensagem original",
                                                       "mensagem encaminhada",
                                                       "mensagem reencaminhada",
                                                       "início da mensagem reencaminhada",
                                                       "início da mensagem encaminhada",
                                                       "ursprüngliche nachricht",
                                                       "ursprüngliche e-mail",
                                                       "weitergeleitete nachricht",
                                                       "anfang der weitergeleiteten nachricht",
                                                       "anfang der weitergeleiteten e-mail",
                                                       "originalnachricht",
                                                       "messaggio originale",
                                                       "messaggio inoltrato",
                                                       "inizio messaggio inoltrato",
                                                       "oorspronkelijk bericht",
                                                       "origineel bericht",
                                                       "doorgestuurd bericht",
                                                       "begin doorgestuurd bericht",
                                                       "wiadomość oryginalna",
                                                       "oryginalna wiadomość",
                                                       "oryginalna wiadomosc",
                                                       "przekazana wiadomość",
                                                       "wiadomość przekazana",
                                                       "początek przekazywanej wiadomości",
                                                       "исходное сообщение",
                                                       "пересылаемое сообщение",
                                                       "пересланное сообщение",
                                                       "начало переадресованного сообщения",
                                                       "оригинальное сообщение",
                                                       "ursprungligt meddelande",
                                                       "vidarebefordrat meddelande",
                                                       "oprindelig meddelelse",
                                                       "videresendt meddelelse",
                                                       "opprinnelig melding",
                                                       "oprindelig besked",
                                                       "videresendt besked",
                                                       "opprinnelig e-post",
                                                       "videresendt melding",
                                                       "alkuperäinen viesti",
                                                       "välitetty viesti",
                                                       "původní zpráva",
                                                       "přeposlaná zpráva",
                                                       "orijinal ileti",
                                                       "iletilen ileti",
                                                       "özgün ileti",
                                                       "eredeti üzenet",
                                                       "továbbított üzenet",
                                                       "αρχικό μήνυμα",
                                                       "προωθημένο μήνυμα",
                                                       "原始邮件",
                                                       "原始郵件",
                                                       "原邮件",
                                                       "转发的邮件",
                                                       "轉寄的郵件",
                                                       "元のメッセージ",
                                                       "転送されたメッセージ",
                                                       "원본 메시지",
                                                       "전달된 메시지",
                                                       "reply message",
                                                       "forwarded email",
                                                       "הודעה מקורית",
                                                       "הודעה שהועברה",
                                                       "הודעה מועברת",
                                                       "الرسالة الأصلية",
                                                       "رسالة أصلية",
                                                       "الرسالة المعاد توجيهها",
                                                       "رسالة معاد توجيهها",
                                                       "الرسالة المُعاد توجيهها",
                                                       "پیام اصلی",
                                                       "پیام بازارسال شده",
                                                       "پیام هدایت شده",
                                                       "izvorna poruka",
                                                       "originalna poruka",
                                                       "proslijeđena poruka",
                                                       "prosleđena poruka",
                                                       "оригинална порука",
                                                       "прослеђена порука",
                                                       "izvirno sporočilo",
                                                       "posredovano sporočilo",
                                                       "pôvodná správa",
                                                       "preposlaná správa",
                                                       "оригінальне повідомлення",
                                                       "початкове повідомлення",
                                                       "переслане повідомлення",
                                                       "пересланий лист",
                                                       "mesaj original",
                                                       "mesaj redirecționat",
                                                       "mesaj redirectionat",
                                                       "pesan asli",
                                                       "pesan terusan",
                                                       "pesan yang diteruskan",
                                                       "thư gốc",
                                                       "thư đã chuyển tiếp",
                                                       "tin nhắn gốc",
                                                       "ข้อความต้นฉบับ",
                                                       "ข้อความที่ส่งต่อ",
                                                       "मूल संदेश",
                                                       "अग्रेषित संदेश"};

constexpr std::string_view kMarkerFromKeys[] = {
    "from",      "de",         "von",    "da",     "van",    "od",     "от",        "från",   "fra",
    "lähettäjä", "feladó",     "kimden", "发件人", "寄件者", "差出人", "보낸 사람", "από",    "expéditeur",
    "remitente", "odesílatel", "מאת",    "من",     "المرسل", "از",     "فرستنده",   "šalje",  "од",
    "шаље",      "від",        "de la",  "dari",   "từ",     "จาก",    "प्रेषक",      "nadawca"};

constexpr std::string_view kMarkerOtherKeys[] = {"sent",
                                                 "date",
                                                 "to",
                                                 "cc",
                                                 "bcc",
                                                 "subject",
                                                 "reply-to",
                                                 "enviado",
                                                 "enviada em",
                                                 "fecha",
                                                 "para",
                                                 "asunto",
                                                 "assunto",
                                                 "data",
                                                 "envoyé",
                                                 "envoyé le",
                                                 "à",
                                                 "a",
                                                 "objet",
                                                 "gesendet",
                                                 "datum",
                                                 "an",
                                                 "betreff",
                                                 "inviato",
                                                 "oggetto",
                                                 "verzonden",
                                                 "aan",
                                                 "onderwerp",
                                                 "wysłano",
                                                 "do",
                                                 "temat",
                                                 "dw",
                                                 "отправлено",
                                                 "дата",
                                                 "кому",
                                                 "тема",
                                                 "копия",
                                                 "skickat",
                                                 "dato",
                                                 "enviado el",
                                                 "enviado em",
                                                 "till",
                                                 "ämne",
                                                 "kopia",
                                                 "sendt",
                                                 "til",
                                                 "emne",
                                                 "kopi",
                                                 "发送时间",
                                                 "日期",
                                                 "收件人",
                                                 "抄送",
                                                 "主题",
                                                 "寄件日期",
                                                 "收件者",
                                                 "副本",
                                                 "主旨",
                                                 "送信日時",
                                                 "宛先",
                                                 "件名",
                                                 "送信日",
                                                 "보낸 날짜",
                                                 "받는 사람",
                                                 "제목",
                                                 "참조",
                                                 "lähetetty",
                                                 "vastaanottaja",
                                                 "aihe",
                                                 "gönderildi",
                                                 "kime",
                                                 "konu",
                                                 "tarih",
                                                 "elküldve",
                                                 "címzett",
                                                 "tárgy",
                                                 "odesláno",
                                                 "komu",
                                                 "předmět",
                                                 "στάλθηκε",
                                                 "προς",
                                                 "θέμα",
                                                 "cc/bcc",
                                                 "kopie",
                                                 "envío",
                                                 "destinatario",
                                                 "cco",
                                                 "נשלח",
                                                 "אל",
                                                 "נושא",
                                                 "עותק",
                                                 "תאריך",
                                                 "إلى",
                                                 "الموضوع",
                                                 "تاريخ الإرسال",
                                                 "التاريخ",
                                                 "أرسلت",
                                                 "أُرسلت",
                                                 "نسخة",
                                                 "تاريخ",
                                                 "موضوع",
                                                 "به",
                                                 "تاریخ",
                                                 "ارسال شده",
                                                 "رونوشت",
                                                 "poslano",
                                                 "prima",
                                                 "predmet",
                                                 "primatelj",
                                                 "послато",
                                                 "прима",
                                                 "предмет",
                                                 "надіслано",
                                                 "відправлено",
                                                 "копія",
                                                 "trimis",
                                                 "către",
                                                 "subiect",
                                                 "dikirim",
                                                 "kepada",
                                                 "subjek",
                                                 "perihal",
                                                 "tanggal",
                                                 "đã gửi",
                                                 "đến",
                                                 "chủ đề",
                                                 "ngày",
                                                 "message du",
                                                 "adresat",
                                                 "copie à",
                                                 "copie",
                                                 "cci",
                                                 "sujet",
                                                 "ถึง",
                                                 "เรื่อง",
                                                 "วันที่",
                                                 "ส่ง",
                                                 "विषय",
                                                 "प्रति",
                                                 "भेजा गया",
                                                 "दिनांक",
                                                 "odoslané"};

// Mobile and webmail footers. After a possessive prefix ("Sent from my")
// any short tail counts; after a bare one ("Sent from") the tail must name a
// device or an app.
constexpr std::string_view kMarkerPossessiveFooters[] = {"sent from my",
                                                         "enviado desde mi",
                                                         "enviado desde el",
                                                         "enviado do meu",
                                                         "enviado de meu",
                                                         "enviado desde o meu",
                                                         "enviado a partir do meu",
                                                         "envoyé de mon",
                                                         "envoyé depuis mon",
                                                         "envoyé à partir de mon",
                                                         "envoye de mon",
                                                         "gesendet von meinem",
                                                         "gesendet mit meinem",
                                                         "inviato dal mio",
                                                         "inviato da mio",
                                                         "verzonden vanaf mijn",
                                                         "verstuurd vanaf mijn",
                                                         "verzonden met mijn",
                                                         "wysłane z mojego",
                                                         "wysłano z mojego",
                                                         "wyslane z mojego",
                                                         "отправлено с моего",
                                                         "отправлено с моего",
                                                         "skickat från min",
                                                         "sendt fra min",
                                                         "sendt fra minn",
                                                         "odesláno z mého",
                                                         "lähetetty minun",
                                                         "trimis de pe",
                                                         "poslano s mog",
                                                         "poslano sa mog",
                                                         "poslano s mojeg",
                                                         "poslano iz mojega",
                                                         "послато са мог",
                                                         "надіслано з мого",
                                                         "στάλθηκε από το",
                                                         "sent using my",
                                                         "sent via my"};

constexpr std::string_view kMarkerBareFooters[] = {"sent from",
                                                   "sent with",
                                                   "sent via",
                                                   "sent using",
                                                   "enviado desde",
                                                   "enviado do",
                                                   "enviado de",
                                                   "envoyé de",
                                                   "envoyé depuis",
                                                   "envoyé avec",
                                                   "gesendet von",
                                                   "gesendet mit",
                                                   "inviato da",
                                                   "inviato con",
                                                   "verzonden vanaf",
                                                   "verzonden vanuit",
                                                   "verstuurd vanaf",
                                                   "verzonden met",
                                                   "verstuurd met",
                                                   "wysłane z",
                                                   "wysłano z",
                                                   "отправлено с",
                                                   "отправлено из",
                                                   "skickat från",
                                                   "sendt fra",
                                                   "get outlook for",
                                                   "obtener outlook para",
                                                   "obtenir outlook pour",
                                                   "scarica outlook per",
                                                   "télécharger outlook pour",
                                                   "telecharger outlook pour",
                                                   "download outlook for",
                                                   "descargar outlook para",
                                                   "baixe o outlook para",
                                                   "baixar o outlook para",
                                                   "download outlook voor",
                                                   "hämta outlook för",
                                                   "pobierz outlook dla",
                                                   "скачать outlook для",
                                                   "poslano s",
                                                   "poslano sa",
                                                   "poslano iz",
                                                   "послато са",
                                                   "надіслано з",
                                                   "dikirim dari",
                                                   "được gửi từ",
                                                   "στάλθηκε από"};

// Footers whose device may be glued to the prefix ("נשלח מה-iPhone שלי",
// "أرسلت من الـ iPhone"): the rest of a short line must mention a device.
constexpr std::string_view kMarkerGluedFooters[] = {"נשלח מ",  "أرسلت من",     "أُرسلت من", "تم الإرسال من",
                                                    "مرسل من", "ارسال شده از", "ส่งจาก"};

// Device and app names a bare footer must mention.
constexpr std::string_view kMarkerDeviceWords[] = {
    "iphone", "ipad",     "ipod",       "android",  "blackberry", "samsung",   "galaxy",  "mobile", "mobil", "móvil",
    "movil",  "celular",  "telemóvel",  "phone",    "smartphone", "tablet",    "outlook", "mail",   "gmail", "yahoo",
    "aol",    "windows",  "protonmail", "proton",   "device",     "huawei",    "xiaomi",  "pixel",  "nokia", "motorola",
    "htc",    "oneplus",  "tutanota",   "spark",    "airmail",    "bluemail",  "ios",     "e-mail", "email", "mobilní",
    "handy",  "telefono", "teléfono",   "телефона", "iphone.",    "мобильного"};

// A rule of 7 or more em dashes, horizontal bars or box-drawing lines
// ("——————————", as Chinese clients draw it); one em dash alone is text.
bool marker_is_long_dash_rule(std::string_view t) {
  constexpr std::size_t kMinDashes = 7;
  constexpr std::size_t kMaxRuleBytes = 600;
  if (t.size() < kMinDashes * 3 || t.size() > kMaxRuleBytes || t.size() % 3 != 0) return false;
  const std::string_view dash = t.substr(0, 3);
  if (dash != "—" && dash != "―" && dash != "─" && dash != "━") return false;
  for (std::size_t i = 3; i < t.size(); i += 3) {
    if (t.substr(i, 3) != dash) return false;
  }
  return true;
}

bool marker_is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

bool marker_is_ascii_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

bool marker_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// The size of the Arabic-Indic (U+0660..0669) or Persian (U+06F0..06F9)
// digit starting `s`, or 0.
std::size_t marker_eastern_digit_size(std::string_view s) {
  if (s.size() < 2) return 0;
  const unsigned char a = static_cast<unsigned char>(s[0]), b = static_cast<unsigned char>(s[1]);
  return (a == 0xD9 && b >= 0xA0 && b <= 0xA9) || (a == 0xDB && b >= 0xB0 && b <= 0xB9) ? 2 : 0;
}

// True when `s` starts with a digit, Western or Eastern Arabic.
bool marker_starts_with_digit(std::string_view s) {
  return (!s.empty() && marker_is_digit(static_cast<unsigned char>(s[0]))) || marker_eastern_digit_size(s) != 0;
}

bool marker_has_digit(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (marker_starts_with_digit(s.substr(i))) return true;
  }
  return false;
}

// The size of the bidirectional formatting character starting `s` (LRM,
// RLM, ALM, the embeddings, overrides and isolates that right-to-left mail
// clients wrap names and addresses in), or 0.
std::size_t marker_bidi_control_size(std::string_view s) {
  if (s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0xD8 && static_cast<unsigned char>(s[1]) == 0x9C) return 2;
  if (s.size() < 3 || static_cast<unsigned char>(s[0]) != 0xE2) return 0;
  const unsigned char b = static_cast<unsigned char>(s[1]), c = static_cast<unsigned char>(s[2]);
  if (b == 0x80 && (c == 0x8E || c == 0x8F || (c >= 0xAA && c <= 0xAE))) return 3;
  if (b == 0x81 && c >= 0xA6 && c <= 0xA9) return 3;
  return 0;
}

// The size of the bidirectional formatting character ending `s`, or 0.
std::size_t marker_trailing_bidi_control_size(std::string_view s) {
  for (std::size_t n : {std::size_t{2}, std::size_t{3}}) {
    if (s.size() >= n && marker_bidi_control_size(s.substr(s.size() - n)) == n) return n;
  }
  return 0;
}

// The lower-case code point of `cp` for the scripts fold_case covers.
std::uint32_t marker_fold_code_point(std::uint32_t cp) {
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return (cp % 2 == 0) ? cp + 1 : cp;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) return (cp % 2 == 1) ? cp + 1 : cp;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

bool marker_starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool marker_ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// `s` without a trailing ':' or full-width '：' and the spaces before it (as
// in French "a écrit :"); `found` says whether there was one.
std::string_view marker_strip_colon(std::string_view s, bool& found) {
  found = false;
  if (marker_ends_with(s, "：")) {
    s.remove_suffix(std::string_view("：").size());
    found = true;
  } else if (marker_ends_with(s, ":")) {
    s.remove_suffix(1);
    found = true;
  }
  return trim_text(s);
}

// True when `s` starts with `word` followed by a space, a comma or its end.
bool marker_starts_with_word(std::string_view s, std::string_view word) {
  if (!marker_starts_with(s, word)) return false;
  if (s.size() == word.size()) return true;
  const unsigned char next = static_cast<unsigned char>(s[word.size()]);
  // CJK lead words need no space after them.
  if (static_cast<unsigned char>(word[0]) >= 0xE0) return true;
  return marker_is_space(next) || next == ',';
}

bool marker_starts_with_lead_word(std::string_view folded) {
  return std::any_of(std::begin(kMarkerLeadWords), std::end(kMarkerLeadWords),
                     [&](std::string_view w) { return marker_starts_with_word(folded, w); });
}

// True when `folded` ends with one of the verbs, not inside a longer word
// ("<a@b>wrote" counts, "rewrote" does not).
bool marker_ends_with_wrote_word(std::string_view folded) {
  for (std::string_view w : kMarkerWroteWords) {
    if (!marker_ends_with(folded, w)) continue;
    if (folded.size() == w.size()) return true;
    const unsigned char before = static_cast<unsigned char>(folded[folded.size() - w.size() - 1]);
    if (static_cast<unsigned char>(w[0]) >= 0xE0 || !(marker_is_ascii_alpha(before) || before >= 0x80)) return true;
  }
  return false;
}

bool marker_has_inner_wrote_word(std::string_view folded) {
  for (std::string_view w : kMarkerInnerWroteWords) {
    for (std::size_t at = folded.find(w); at != std::string_view::npos; at = folded.find(w, at + 1)) {
      const bool starts = at == 0 || marker_is_space(static_cast<unsigned char>(folded[at - 1]));
      const std::size_t end = at + w.size();
      const bool ends = end < folded.size() && marker_is_space(static_cast<unsigned char>(folded[end]));
      if (starts && ends) return true;
    }
  }
  return false;
}

std::size_t marker_word_count(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = marker_is_space(static_cast<unsigned char>(c));
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// True when a footer's tail is short and not a sentence: at most
// `max_words` words and none of ",;:!?" (a final '.' is allowed).
bool marker_is_short_tail(std::string_view tail, std::size_t max_words) {
  tail = trim_text(tail);
  if (marker_ends_with(tail, ".")) tail.remove_suffix(1);
  const std::size_t words = marker_word_count(tail);
  if (words == 0 || words > max_words) return false;
  return tail.find_first_of(",;:!?") == std::string_view::npos;
}

bool marker_tail_names_device(std::string_view tail) {
  std::size_t i = 0;
  while (i < tail.size()) {
    while (i < tail.size() && marker_is_space(static_cast<unsigned char>(tail[i]))) ++i;
    std::size_t j = i;
    while (j < tail.size() && !marker_is_space(static_cast<unsigned char>(tail[j]))) ++j;
    std::string_view word = tail.substr(i, j - i);
    while (!word.empty() && (word.back() == '.' || word.back() == '!')) word.remove_suffix(1);
    if (std::find(std::begin(kMarkerDeviceWords), std::end(kMarkerDeviceWords), word) != std::end(kMarkerDeviceWords))
      return true;
    i = j;
  }
  return false;
}

// The rest of `folded` after `prefix` and a space, or nothing.
bool marker_tail_after(std::string_view folded, std::string_view prefix, std::string_view& tail) {
  if (!marker_starts_with(folded, prefix) || folded.size() <= prefix.size()) return false;
  if (!marker_is_space(static_cast<unsigned char>(folded[prefix.size()]))) return false;
  tail = folded.substr(prefix.size() + 1);
  return true;
}

}  // namespace

std::string fold_case(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (const std::size_t bidi = marker_bidi_control_size(text.substr(i)); bidi != 0) {
      i += bidi - 1;
      continue;
    }
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 0x20) : static_cast<char>(c));
      continue;
    }
    const bool two_bytes =
        (c & 0xE0) == 0xC0 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
    if (!two_bytes) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    const std::uint32_t cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
    const std::uint32_t folded = marker_fold_code_point(cp);
    out.push_back(static_cast<char>(0xC0 | (folded >> 6)));
    out.push_back(static_cast<char>(0x80 | (folded & 0x3F)));
    ++i;
  }
  return out;
}

std::string_view trim_text(std::string_view text) {
  constexpr std::string_view kNoBreakSpace = "\xC2\xA0";
  for (;;) {
    if (!text.empty() && marker_is_space(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    } else if (marker_starts_with(text, kNoBreakSpace)) {
      text.remove_prefix(kNoBreakSpace.size());
    } else if (const std::size_t bidi = marker_bidi_control_size(text); bidi != 0) {
      text.remove_prefix(bidi);
    } else {
      break;
    }
  }
  for (;;) {
    if (!text.empty() && marker_is_space(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    } else if (marker_ends_with(text, kNoBreakSpace)) {
      text.remove_suffix(kNoBreakSpace.size());
    } else if (const std::size_t bidi = marker_trailing_bidi_control_size(text); bidi != 0) {
      text.remove_suffix(bidi);
    } else {
      break;
    }
  }
  return text;
}

bool is_quoted_line(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '>';
}

QuoteHeader classify_quote_header(std::string_view text) {
  constexpr std::size_t kMaxHeaderBytes = 400;
  text = trim_text(text);
  if (text.empty() || text.size() > kMaxHeaderBytes || is_quoted_line(text)) return QuoteHeader::kNone;
  // Zoho and Zimbra decorate it: "---- On … wrote ----", "- Le … a écrit :".
  while (!text.empty() && text.front() == '-') text = trim_text(text.substr(1));
  while (!text.empty() && text.back() == '-') text = trim_text(text.substr(0, text.size() - 1));
  bool colon = false;
  const std::string_view body = marker_strip_colon(text, colon);
  if (body.empty()) return QuoteHeader::kNone;
  const std::string folded = fold_case(body);
  const bool digit = marker_has_digit(folded);
  const bool address = folded.find('@') != std::string::npos;
  const bool lead = marker_starts_with_lead_word(folded);
  if (!colon) {
    // "On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote".
    if (lead && digit && marker_ends_with_wrote_word(folded)) return QuoteHeader::kStrong;
    // Old Gmail: "2011/4/7 Nathan <support@example.com>", a header only
    // right above quoted lines.
    if (marker_starts_with_digit(folded) && address && folded.back() == '>' && folded.find('<') != std::string::npos) {
      return QuoteHeader::kWeak;
    }
    return QuoteHeader::kNone;
  }
  if (marker_ends_with_wrote_word(folded)) {
    return (digit || address || lead) ? QuoteHeader::kStrong : QuoteHeader::kWeak;
  }
  // "Am 01.01.2023 um 10:00 schrieb Max Mustermann <max@example.de>:",
  // "Max <max@example.de> schrieb am So., 23. Juni 2024, 21:08:".
  if (digit && (lead || address || marker_starts_with_digit(folded)) && marker_has_inner_wrote_word(folded)) {
    return QuoteHeader::kStrong;
  }
  // "On 11-Apr-2011, at 6:54 PM, Roman <roman@example.com> sent:": with a
  // date word, a date and an address, "sent" is the verb.
  if (lead && digit && address && marker_ends_with(folded, " sent")) return QuoteHeader::kStrong;
  // Apple Mail in Polish names the message first: "Wiadomość napisana przez
  // Ana <ana@example.pl> w dniu 17.01.2023, o godz. 11:09:".
  if (digit && marker_starts_with(folded, "wiadomość napisana przez ")) return QuoteHeader::kStrong;
  // "2014年1月9日 2:47 George <g@example.com>:", "пн, 1 янв. 2023 г. в 10:00, Name <a@b>:".
  const bool ends_with_address = folded.back() == '>' || marker_ends_with(folded, ">)") || folded.back() == ')';
  if (ends_with_address && address && digit && folded.find('<') != std::string::npos) return QuoteHeader::kStrong;
  return QuoteHeader::kNone;
}

bool may_start_wrapped_quote_header(std::string_view line) {
  line = trim_text(line);
  if (line.empty() || line.size() > 200 || is_quoted_line(line)) return false;
  // A sentence ends there; a header's first line ends with a name or "<",
  // or holds the address ("Aa Bb <a@b.org> schrieb am So., 23.").
  const bool sentence_end = std::string_view(".!?;:").find(line.back()) != std::string_view::npos;
  if (sentence_end && line.find('@') == std::string_view::npos) return false;
  return marker_has_digit(line);
}

bool starts_like_quote_header(std::string_view line) {
  line = trim_text(line);
  if (line.empty()) return false;
  if (marker_starts_with_digit(line)) return true;
  return marker_starts_with_lead_word(fold_case(line.substr(0, 16)));
}

bool is_decorated_title(std::string_view line) {
  line = trim_text(line);
  if (line.size() > 200) return false;
  constexpr std::string_view kRule = "-_=";
  const std::size_t first = line.find_first_not_of(kRule);
  if (first == std::string_view::npos || first < 3) return false;
  const std::size_t last = line.find_last_not_of(kRule);
  if (line.size() - last - 1 < 3) return false;
  const std::size_t words = marker_word_count(line.substr(first, last - first + 1));
  return words >= 1 && words <= 6;
}

// "-------- Ursprüngliche Nachricht --------Von: …": a marker between rules
// with the header block glued on after it (a text part that lost its line
// breaks).
namespace {
bool marker_is_glued_original_message_marker(std::string_view line) {
  constexpr std::size_t kMaxTitleBytes = 200;
  const std::size_t first = line.find_first_not_of("- ");
  if (first == std::string_view::npos || first < 2 || first > kMaxTitleBytes) return false;
  const std::size_t rule = line.substr(0, kMaxTitleBytes).find("--", first);
  if (rule == std::string_view::npos) return false;
  const std::string folded = fold_case(trim_text(line.substr(first, rule - first)));
  if (std::find(std::begin(kMarkerOriginalPhrases), std::end(kMarkerOriginalPhrases), folded) ==
      std::end(kMarkerOriginalPhrases)) {
    return false;
  }
  const std::size_t rest = line.find_first_not_of("- ", rule);
  return rest != std::string_view::npos && header_key(line.substr(rest)) != HeaderKey::kNone;
}
}  // namespace

bool is_original_message_marker(std::string_view line) {
  line = trim_text(line);
  if (line.empty()) return false;
  if (line.size() > 200) return marker_is_glued_original_message_marker(line);
  if (marker_is_glued_original_message_marker(line)) return true;
  constexpr std::string_view kDecoration = "-_=*~ \t";
  const std::size_t first = line.find_first_not_of(kDecoration);
  if (first == std::string_view::npos) return false;
  const std::size_t last = line.find_last_not_of(kDecoration);
  std::string_view phrase = line.substr(first, last - first + 1);
  const bool decorated = first >= 2 || line.size() - last - 1 >= 2;
  bool colon = false;
  phrase = marker_strip_colon(phrase, colon);
  if (!decorated && !colon) return false;
  const std::string folded = fold_case(phrase);
  return std::find(std::begin(kMarkerOriginalPhrases), std::end(kMarkerOriginalPhrases), folded) !=
         std::end(kMarkerOriginalPhrases);
}

HeaderKey header_key(std::string_view line) {
  line = trim_text(line);
  while (!line.empty() && line.front() == '*') line.remove_prefix(1);
  std::size_t colon = line.substr(0, 48).find(':');
  std::size_t colon_size = 1;
  const std::size_t wide = line.substr(0, 48).find("：");
  if (wide != std::string_view::npos && (colon == std::string_view::npos || wide < colon)) {
    colon = wide;
    colon_size = std::string_view("：").size();
  }
  if (colon == std::string_view::npos || colon == 0) return HeaderKey::kNone;
  std::string_view key = line.substr(0, colon);
  while (!key.empty() && (key.back() == '*' || key.back() == ' ')) key.remove_suffix(1);
  std::string_view value = line.substr(colon + colon_size);
  while (!value.empty() && value.front() == '*') value.remove_prefix(1);
  value = trim_text(value);
  const std::string folded = fold_case(key);
  if (std::find(std::begin(kMarkerFromKeys), std::end(kMarkerFromKeys), folded) != std::end(kMarkerFromKeys)) {
    return value.empty() ? HeaderKey::kNone : HeaderKey::kFrom;
  }
  if (std::find(std::begin(kMarkerOtherKeys), std::end(kMarkerOtherKeys), folded) != std::end(kMarkerOtherKeys)) {
    return HeaderKey::kOther;
  }
  return HeaderKey::kNone;
}

bool is_flattened_header_block(std::string_view line) {
  constexpr std::size_t kMaxFlattenedBytes = 400;
  line = trim_text(line);
  if (line.size() > kMaxFlattenedBytes || header_key(line) == HeaderKey::kNone) return false;
  if (line.find('@') == std::string_view::npos) return false;
  const std::string folded = fold_case(line);
  const std::size_t first_colon = folded.find(':');
  if (first_colon == std::string::npos) return false;
  for (std::string_view key : kMarkerFromKeys) {
    for (std::size_t at = folded.find(key, first_colon + 1); at != std::string::npos; at = folded.find(key, at + 1)) {
      const std::size_t end = at + key.size();
      const bool starts_word =
          folded[at - 1] == ' ' || folded[at - 1] == '*' || (folded[at - 1] >= '0' && folded[at - 1] <= '9');
      std::size_t colon = end;
      while (colon < folded.size() && (folded[colon] == ' ' || folded[colon] == '*')) ++colon;
      if (starts_word && colon < folded.size() && folded[colon] == ':') return true;
    }
  }
  return false;
}

bool header_value_has_address(std::string_view line) {
  const std::size_t colon = line.find(':');
  return colon != std::string_view::npos && line.find('@', colon) != std::string_view::npos;
}

SignatureStart classify_signature_start(std::string_view line) {
  const std::string_view t = trim_text(line);
  if (t == "--") return SignatureStart::kStrong;
  if (t.size() >= 7 &&
      (t.find_first_not_of('-') == std::string_view::npos || t.find_first_not_of('_') == std::string_view::npos)) {
    return SignatureStart::kStrong;
  }
  if (marker_is_long_dash_rule(t)) return SignatureStart::kStrong;
  if (is_mobile_footer(t)) return SignatureStart::kStrong;
  // "--Bob", "-- Tim", "__Ana": a delimiter glued to a name. A short rule
  // alone ("----", markdown) is not one.
  if (marker_starts_with(t, "--") || marker_starts_with(t, "__")) {
    const std::size_t name = t.find_first_not_of(t[0]);
    // "__" alone under a blank line: a mailing list's footer rule, cut short.
    if (name == std::string_view::npos) return t == "__" ? SignatureStart::kWeak : SignatureStart::kNone;
    const std::string_view rest = trim_text(t.substr(name));
    return !rest.empty() && marker_word_count(rest) <= 4 ? SignatureStart::kWeak : SignatureStart::kNone;
  }
  // "-Abhishek Kona": a dash glued to a short name.
  if (t.size() >= 2 && t[0] == '-' &&
      (marker_is_ascii_alpha(static_cast<unsigned char>(t[1])) || static_cast<unsigned char>(t[1]) >= 0x80)) {
    if (marker_word_count(t) <= 4) return SignatureStart::kWeak;
  }
  return SignatureStart::kNone;
}

bool is_mobile_footer(std::string_view line) {
  line = trim_text(line);
  if (line.empty() || line.size() > 160) return false;
  // Outlook glues a link to its footer: "Get Outlook for iOS<https://aka.ms/o0ukef>".
  // A footer with a link glued on is an app's, whatever its name ("Sent
  // from TypeApp<http://…>").
  std::string folded = fold_case(line);
  bool app_link = false;
  for (std::size_t open = folded.find('<'); open != std::string::npos; open = folded.find('<', open)) {
    const std::size_t close = folded.find('>', open);
    if (close == std::string::npos) break;
    app_link = app_link || folded.compare(open + 1, 4, "http") == 0;
    folded.erase(open, close - open + 1);
  }
  folded = std::string(trim_text(folded));
  std::string_view tail;
  for (std::string_view prefix : kMarkerPossessiveFooters) {
    if (marker_tail_after(folded, prefix, tail) && marker_is_short_tail(tail, 5)) return true;
  }
  for (std::string_view prefix : kMarkerBareFooters) {
    if (marker_tail_after(folded, prefix, tail) && marker_is_short_tail(tail, 6) &&
        (app_link || marker_tail_names_device(tail))) {
      return true;
    }
  }
  // German puts the verb last: "Von meinem iPhone gesendet".
  std::string_view german = folded;
  if (marker_ends_with(german, ".")) german.remove_suffix(1);
  if (marker_tail_after(german, "von meinem", tail) && marker_ends_with(tail, " gesendet") &&
      marker_is_short_tail(tail, 7)) {
    return true;
  }
  if (marker_tail_after(german, "outlook für", tail) && marker_ends_with(tail, " herunterladen") &&
      marker_is_short_tail(tail, 3)) {
    return true;
  }
  // Hungarian also puts the verb last, with the device declined: "Az
  // iPhone-omról küldve".
  constexpr std::size_t kMaxHungarianFooterBytes = 64;
  if (german.size() <= kMaxHungarianFooterBytes && marker_ends_with(german, " küldve")) {
    const std::string_view device = german.substr(0, german.size() - std::string_view(" küldve").size());
    if (std::any_of(std::begin(kMarkerDeviceWords), std::end(kMarkerDeviceWords),
                    [&](std::string_view word) { return device.find(word) != std::string_view::npos; })) {
      return true;
    }
  }
  constexpr std::size_t kMaxGluedFooterBytes = 80;
  if (folded.size() <= kMaxGluedFooterBytes) {
    for (std::string_view prefix : kMarkerGluedFooters) {
      if (!marker_starts_with(folded, prefix)) continue;
      const std::string_view rest = std::string_view(folded).substr(prefix.size());
      if (std::any_of(std::begin(kMarkerDeviceWords), std::end(kMarkerDeviceWords),
                      [&](std::string_view device) { return rest.find(device) != std::string_view::npos; })) {
        return true;
      }
    }
  }
  // Chinese, Japanese and Korean footers: "发自我的iPhone", "iPhoneから送信".
  constexpr std::size_t kMaxCjkFooterBytes = 64;
  if (folded.size() <= kMaxCjkFooterBytes) {
    for (std::string_view prefix : {"发自我的", "發自我的", "从我的", "從我的", "来自我的", "來自我的"}) {
      if (marker_starts_with(folded, prefix)) return true;
    }
    for (std::string_view suffix : {"から送信", "から送信。", "에서 보냄"}) {
      if (marker_ends_with(folded, suffix)) return true;
    }
  }
  return false;
}

}  // namespace gw::inbound
