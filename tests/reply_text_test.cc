// Visible reply extraction: unit cases in several languages and clients,
// then every case of the two reference suites in
// shared/data/email/reply-expected.json, checked by each suite's own
// definitions (see the "definitions" there), with the pass rates printed.
#include "ghostwatch/inbound/reply_text.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace gw::inbound {
namespace {

// --- Unit cases -----------------------------------------------------------

TEST(ReplyText, PlainTextIsKept) {
  EXPECT_EQ(visible_reply("Hello,\n\nsure, Friday works.\n\nAna\n"), "Hello,\n\nsure, Friday works.\n\nAna");
  EXPECT_EQ(visible_reply(""), "");
  EXPECT_EQ(visible_reply("\n\n"), "");
}

TEST(ReplyText, QuotedHistoryAndEnglishHeaderAreDropped) {
  EXPECT_EQ(visible_reply("Works for me.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ana <ana@example.com> wrote:\n> Friday?\n"),
            "Works for me.");
  // Without '>' (clients that do not quote, or HTML turned into text).
  EXPECT_EQ(visible_reply("Works for me.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ana <ana@example.com> wrote:\n\nFriday?\n"),
            "Works for me.");
}

TEST(ReplyText, HeadersWrappedOverLines) {
  EXPECT_EQ(
      visible_reply("Yes.\n\nOn Wed, May 18, 2016 at 11:10 PM Steven Scott <s@example.com>\nwrote:\n\nOld text\n"),
      "Yes.");
  EXPECT_EQ(visible_reply("Yes.\n\nOn Dec 16, 2011, at 12:47 PM, Corey\n<reply@example.com>\nwrote:\n\n> Old\n"),
            "Yes.");
  EXPECT_EQ(
      visible_reply("Oui.\n\nLe lun. 1 janv. 2024 à 10:00, Marie Curie <marie@example.fr> a\nécrit :\n\nAncien\n"),
      "Oui.");
}

struct LanguageCase {
  const char* name;
  const char* header;
};

TEST(ReplyText, QuoteHeadersInManyLanguages) {
  const LanguageCase cases[] = {
      {"es", "El lun, 1 ene 2024 a las 10:00, Ana Pérez (<ana@example.es>) escribió:"},
      {"pt", "Em seg., 1 de jan. de 2024 às 10:00, João <joao@example.pt> escreveu:"},
      {"fr", "Le lun. 1 janv. 2024 à 10:00, Marie <marie@example.fr> a écrit :"},
      {"de-gmail", "Am Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Max Müller <max@example.de>:"},
      {"de-thunderbird", "Am 01.01.2024 um 10:00 schrieb Max Mustermann:"},
      {"de-apple", "Am 01.01.2024 um 10:00 schrieb Max Müller <max@example.de>:"},
      {"it", "Il giorno lun 1 gen 2024 alle ore 10:00 Luca Rossi <luca@example.it> ha scritto:"},
      {"nl", "Op ma 1 jan. 2024 om 10:00 schreef Jan de Vries <jan@example.nl>:"},
      {"pl-gmail", "pon., 1 sty 2024 o 10:00 Jan Kowalski <jan@example.pl> napisał(a):"},
      {"pl-thunderbird", "W dniu 1.01.2024 o 10:00, Jan Kowalski pisze:"},
      {"ru-gmail", "пн, 1 янв. 2024 г. в 10:00, Иван Петров <ivan@example.ru>:"},
      {"ru-outlook", "1 января 2024 г., в 10:00, Иван Петров написал:"},
      {"sv", "Den mån 1 jan. 2024 kl 10:00 skrev Anna Svensson <anna@example.se>:"},
      {"zh", "李伟 <li@example.cn> 于2024年1月1日周一 10:00写道："},
      {"ja", "2024年1月1日(月) 10:00 山田太郎 <taro@example.jp>:"},
      {"en-apple", "On 9 Jan 2014, at 2:47, George Plymale wrote:"},
      {"en-outlook-short", "On 1/1/24 10:00 AM, Ana wrote:"},
      // Right-to-left clients wrap the line, the name and the address in
      // bidirectional formatting characters (RLE/LRE ... PDF, RLM).
      {"he-gmail",
       "\u202B\u05D1\u05EA\u05D0\u05E8\u05D9\u05DA \u05D9\u05D5\u05DD \u05D4\u05F3, 8 "
       "\u05D1\u05E0\u05D5\u05D1\u05F3 2018 \u05D1-17:49 \u05DE\u05D0\u05EA \u202AFoo Bar\u202C\u200F "
       "<\u202Afoo@bar.com\u202C\u200F>:\u202C"},
      {"he-thunderbird", "בתאריך 08/11/2018 17:49, Foo Bar כתב:"},
      {"he-apple", "ב-8 בנוב׳ 2018, בשעה 17:49, Foo Bar <foo@bar.com> כתב/ה:"},
      {"ar-gmail",
       "\u202Bفي الخميس، 8 نوفمبر 2018 في 5:49 م تمت كتابة ما يلي بواسطة \u202AFoo Bar\u202C\u200F "
       "<\u202Afoo@bar.com\u202C\u200F>:\u202C"},
      {"ar-thunderbird-eastern-digits", "في ٠٨/١١/٢٠١٨ ٠٥:٤٩ م، كتب Foo Bar:"},
      {"fa-gmail", "در تاریخ پنجشنبه ۸ نوامبر ۲۰۱۸ ساعت ۱۷:۴۹ Foo Bar <foo@bar.com> نوشت:"},
      {"hr", "Dana 8. stu 2018. u 17:49, Foo Bar <foo@bar.com> je napisao:"},
      {"sr", "8. нов 2018. у 17:49, Фоо Бар <foo@bar.com> је написао:"},
      {"uk", "чт, 8 лист. 2018 о 17:49 Foo Bar <foo@bar.com> пише:"},
      {"th", "เมื่อ วันพฤหัสบดีที่ 8 พ.ย. 2018 เวลา 17:49 Foo Bar <foo@bar.com> เขียนว่า:"},
      {"hi", "गुरु, 8 नव॰ 2018 को 17:49 बजे Foo Bar <foo@bar.com> ने लिखा:"},
  };
  for (const LanguageCase& c : cases) {
    const std::string quoted = std::string("Reply text.\n\n") + c.header + "\n> older message\n> more\n";
    EXPECT_EQ(visible_reply(quoted), "Reply text.") << c.name << " (quoted)";
    const std::string unquoted = std::string("Reply text.\n\n") + c.header + "\n\nolder message\n";
    EXPECT_EQ(visible_reply(unquoted), "Reply text.") << c.name << " (not quoted)";
  }
}

TEST(ReplyText, OutlookAndForwardBlocks) {
  EXPECT_EQ(visible_reply("See below.\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\nTo: Bob\n\nOld\n"),
            "See below.");
  EXPECT_EQ(visible_reply("Danke!\n\nVon: Max Müller <max@example.de>\nGesendet: Montag, 1. Januar 2024 10:00\n"
                          "An: Anna\nBetreff: Angebot\n\nAlter Text\n"),
            "Danke!");
  EXPECT_EQ(visible_reply("Merci.\n________________________________\nDe : Marie <m@example.fr>\nEnvoyé : lundi\n"
                          "À : Paul\nObjet : Devis\n\nAncien\n"),
            "Merci.");
  EXPECT_EQ(visible_reply("FYI\n\n---------- Forwarded message ---------\nFrom: Ana <ana@example.com>\n"
                          "Date: Mon, Jan 1, 2024\nSubject: Hi\nTo: <bob@example.com>\n\nBody\n"),
            "FYI");
  EXPECT_EQ(visible_reply("Ver abajo.\n\n-----Mensaje original-----\nDe: Ana\nEnviado el: lunes\nPara: Bob\n\nViejo\n"),
            "Ver abajo.");
  EXPECT_EQ(
      visible_reply(
          "好的。\n\n发件人: 李伟 <li@example.cn>\n发送时间: 2024年1月1日 10:00\n收件人: 王芳\n主题: 报价\n\n旧\n"),
      "好的。");
  EXPECT_EQ(visible_reply("Look.\n\nBegin forwarded message:\n\nFrom: Ana <ana@example.com>\nDate: today\n\nOld\n"),
            "Look.");
  EXPECT_EQ(visible_reply("תודה.\n\nמאת: Foo Bar <foo@bar.com>\nנשלח: יום חמישי 8 נובמבר 2018 17:49\nאל: Baz\n"
                          "נושא: הצעה\n\nישן\n"),
            "תודה.");
  EXPECT_EQ(visible_reply("شكرا.\n\n-----الرسالة الأصلية-----\nمن: Foo\nأرسلت: الخميس\nإلى: Baz\n\nقديم\n"), "شكرا.");
  EXPECT_EQ(visible_reply("Hvala.\n\nOd: Foo <foo@bar.com>\nPoslano: četvrtak\nPrima: Baz\nPredmet: Ponuda\n\nStaro\n"),
            "Hvala.");
}

TEST(ReplyText, SignaturesAndMobileFooters) {
  EXPECT_EQ(visible_reply("Done.\n\n-- \nBob Smith\nAcme Ltd\n"), "Done.");
  EXPECT_EQ(visible_reply("Done.\n-- \nBob Smith\n"), "Done.");
  EXPECT_EQ(visible_reply("Done.\n\n-Bob\n"), "Done.");
  const char* footers[] = {
      "Sent from my iPhone",
      "Sent from my Samsung Galaxy smartphone.",
      "Get Outlook for Android",
      "Enviado desde mi iPhone",
      "Enviado do meu iPhone",
      "Envoyé de mon iPad",
      "Von meinem iPhone gesendet",
      "Inviato da iPhone",
      "Verzonden vanaf mijn iPhone",
      "Wysłane z mojego iPhone'a",
      "Отправлено с iPhone",
      "发自我的iPhone",
      "iPhoneから送信",
      "Sent from Yahoo Mail on Android",
      "Sent from Mail for Windows",
      "\u05E0\u05E9\u05DC\u05D7 \u05DE\u05D4-iPhone \u05E9\u05DC\u05D9",  // Hebrew, glued to its prefix
      "أرسلت من الـ iPhone",
      "Poslano s mog iPhonea",
      "Надіслано з iPhone",
  };
  for (const char* footer : footers) {
    EXPECT_EQ(visible_reply(std::string("Ok, thanks.\n\n") + footer + "\n"), "Ok, thanks.") << footer;
    EXPECT_EQ(visible_reply(std::string("Ok, thanks.\n") + footer + "\n"), "Ok, thanks.") << footer << " (no gap)";
  }
}

TEST(ReplyText, LookAlikesAreKept) {
  EXPECT_EQ(visible_reply("Hi\n\nSent from my desk, is much easier then my mobile phone."),
            "Hi\n\nSent from my desk, is much easier then my mobile phone.");
  EXPECT_EQ(visible_reply("Hi\n\nSent from a magnificent torch of pixels\n"),
            "Hi\n\nSent from a magnificent torch of pixels");
  EXPECT_EQ(visible_reply("A fix -- not a signature.\n\nkthx\n"), "A fix -- not a signature.\n\nkthx");
  EXPECT_EQ(visible_reply("One outstanding question I had:\n\nwhy?\n"), "One outstanding question I had:\n\nwhy?");
  EXPECT_EQ(visible_reply("On your remote host you can run:\n\n  telnet 127.0.0.1 52698\n"),
            "On your remote host you can run:\n\n  telnet 127.0.0.1 52698");
  EXPECT_EQ(visible_reply("- first point\n- second point\n"), "- first point\n- second point");
  EXPECT_EQ(visible_reply("From: the team, with thanks\n\nBye\n"), "From: the team, with thanks\n\nBye");
  // A right-to-left sentence ending in "wrote:" with no date, address or
  // quoted lines after it; a Hebrew "sent from" that names no device.
  EXPECT_EQ(visible_reply("הוא כתב:\nשורה חדשה\n"), "הוא כתב:\nשורה חדשה");
  EXPECT_EQ(visible_reply("טוב.\n\nנשלח מהמשרד שלנו\n"), "טוב.\n\nנשלח מהמשרד שלנו");
}

TEST(ReplyText, MoreClientFormats) {
  // Finnish Gmail wraps before the address; the date line has no date word.
  EXPECT_EQ(
      visible_reply("Kiitos!\n\nti 2. tammikuuta 2024 klo 10.00 Matti Meikäläinen\n<matti@example.fi> kirjoitti:\n\n"
                    "vanha viesti\n"),
      "Kiitos!");
  // A header without its colon.
  EXPECT_EQ(visible_reply("Fine.\n\nOn Tue, 2 Jan 2024 09:00:00 +0100 Ana <ana@example.com> wrote\n\nold\n"), "Fine.");
  // A title between rules in a language not in the tables, above a header block.
  EXPECT_EQ(visible_reply("Tak.\n\n-------- Oprindelig besked --------\nFra: Ana <ana@example.dk>\nDato: 02.01.2024\n"
                          "Til: bob@example.dk\nEmne: Tilbud\n\nGammel\n"),
            "Tak.");
  // Outlook wraps a long sender over two lines.
  EXPECT_EQ(
      visible_reply("Noted.\n\nFrom: Human Resources\n<hr-notifications+123@example.com>\nSent: Monday, 1 January 2024"
                    "\nTo: Ana\nSubject: News\n\nold\n"),
      "Noted.");
  // Outlook's mobile footer with its link, and the original message below it with no header.
  EXPECT_EQ(
      visible_reply("Merci.\n\nTélécharger Outlook pour Android<https://aka.ms/x>\n\n________________________________\n"
                    "From: Ana <ana@example.com>\nSent: Monday\nTo: Bob\nSubject: Hi\n\nold\n"),
      "Merci.");
  EXPECT_EQ(visible_reply("Danke.\n\nGesendet von Outlook für Android<https://aka.ms/y>\n\nDie alte Nachricht\n"),
            "Danke.");
  EXPECT_EQ(visible_reply("Ok.\n\nSent from my iPhone\n\nthe message I answered\n"), "Ok.");
  // German Gmail wrapping inside the date, after the address.
  EXPECT_EQ(visible_reply("Gut.\n\nMax Muster <max@example.de> schrieb am Mo., 1.\nJan. 2024, 10:00:\n\n> alt\n"),
            "Gut.");
  // Zoho decorates the header with dashes and drops the colon.
  EXPECT_EQ(visible_reply("Sure.\n\n---- On Mon, 01 Jan 2024 10:00:00 +0100 ana@example.com wrote ----\n\nold\n"),
            "Sure.");
  // An app footer with its link, right above a wrapped header with no quoting below it.
  EXPECT_EQ(
      visible_reply("Yes it can.\n\nSent from SomeApp<http://someapp.example/r?b=1>\nOn Jan 1, 2024, at 10:00, Ana "
                    "<ana@example.com<\nmailto:ana@example.com>> wrote:\nCan you check?\n"),
      "Yes it can.");
  // Date-first headers with an address and no verb.
  for (const char* header : {"30.09.2017, 18.30, \"Ana - Shop\" <ana@example.com>:",
                             "11:00 AM, November 17, 2021, \"Ana\" <ana@example.com>:",
                             "Wednesday, 17 November 2021, 3:32 PM +0300 from ana@example.com <ana@example.com>:"}) {
    EXPECT_EQ(visible_reply(std::string("Reply.\n\n") + header + "\n\nold\n"), "Reply.") << header;
  }
}

TEST(ReplyText, ContentThatLooksLikeMarkersStays) {
  // Markdown rules are not signature delimiters.
  EXPECT_EQ(visible_reply("Plan:\n\n## Steps\n----\n\n1. build\n\n----\n\nThat is all.\n"),
            "Plan:\n\n## Steps\n----\n\n1. build\n\n----\n\nThat is all.");
  // Dates in the text, and a text line with a date right above a header.
  EXPECT_EQ(visible_reply("Times:\n\n2024-01-15 14:30\n15.01.2024 14:30\nJan 15, 2024 at 14:30\n\nDone.\n"),
            "Times:\n\n2024-01-15 14:30\n15.01.2024 14:30\nJan 15, 2024 at 14:30\n\nDone.");
  EXPECT_EQ(visible_reply("Call me at 5 pm\nOn Mon, Jan 1, 2024 at 10:00 AM Ana <ana@example.com> wrote:\n> hi\n"),
            "Call me at 5 pm");
  EXPECT_EQ(visible_reply("The alert was sent from my iPhone app to all users.\n"),
            "The alert was sent from my iPhone app to all users.");
  EXPECT_EQ(visible_reply("See https://example.com/on-date-someone-wrote-about-it\n"),
            "See https://example.com/on-date-someone-wrote-about-it");
}

TEST(ReplyText, HeaderBlockWithTheDateFirstAndARuleAbove) {
  // French webmails start the block with the date, and a rule of '=' sets it off.
  EXPECT_EQ(
      visible_reply("Bien reçu, merci.\n\n====\n\nMessage du : 03/04/2024 09:15\nDe : \"Paul\" <paul@example.fr>\n"
                    "A : lea@example.fr\nCopie à : \nSujet : facture\n\nBonjour Léa,\n"),
      "Bien reçu, merci.");
  // The same rule with no header block below is the sender's own separator.
  EXPECT_EQ(visible_reply("Part one.\n\n====\n\nPart two.\n"), "Part one.\n\n====\n\nPart two.");
}

TEST(ReplyText, ShortUnderscoreRuleStartsAListFooter) {
  EXPECT_EQ(visible_reply("Thanks, will do.\n\n-Lea\n\nOn Tue, Mar 5, 2024 at 9:00 AM, Ana <ana@example.com> wrote:\n"
                          "> Could you?\n\n\n__\ndev-list mailing list\ndev@lists.example.org\n"),
            "Thanks, will do.");
  // Right below text it is not one.
  EXPECT_EQ(visible_reply("Fill in the blank:\n__\nis the answer.\n"), "Fill in the blank:\n__\nis the answer.");
}

TEST(ReplyText, TableUnderlineIsNotASignature) {
  EXPECT_EQ(visible_reply("Your renewals:\n\nDomain Renewal Date Price\n--------------------------\n"
                          "example.com 2024-06-01 12.00\n\nReply if anything is wrong.\n"),
            "Your renewals:\n\nDomain Renewal Date Price\n--------------------------\n"
            "example.com 2024-06-01 12.00\n\nReply if anything is wrong.");
  // Under a name or a sign-off the rule still starts a signature.
  EXPECT_EQ(visible_reply("Thanks\nBob\n----------\nBob Smith, Acme Ltd\n"), "Thanks\nBob");
  EXPECT_EQ(visible_reply("See you soon,\n-------------------\nAna Lopez | Design\n"), "See you soon,");
  // "--" and "-- " are delimiters under any line.
  EXPECT_EQ(visible_reply("Thanks for all your help today\n-- \nBob Smith\n"), "Thanks for all your help today");
  EXPECT_EQ(visible_reply("Thanks for all your help today\n--\nBob Smith\n"), "Thanks for all your help today");
}

TEST(ReplyText, PolishAppleMailHeaderAndMoreFooters) {
  EXPECT_EQ(visible_reply("Dziękuję, pasuje.\nWiadomość napisana przez Ana <ana@example.pl> w dniu 02.03.2024, o godz. "
                          "08:15:\nCzy piątek pasuje?\n"),
            "Dziękuję, pasuje.");
  // A sentence that starts the same way, with no date, is text.
  EXPECT_EQ(visible_reply("Wiadomość napisana przez klienta była długa:\nale jasna.\n"),
            "Wiadomość napisana przez klienta była długa:\nale jasna.");
  // Dutch Outlook and Hungarian iPhone footers hide the history below them.
  EXPECT_EQ(visible_reply("Prima.\nVerzonden vanuit Outlook voor Android\n\nana@example.nl wrote:\n\nKan het?\n"),
            "Prima.");
  EXPECT_EQ(visible_reply("Rendben.\nAz iPhone-omról küldve\n\nana@example.hu wrote:\n\nJó így?\n"), "Rendben.");
  EXPECT_EQ(visible_reply("A csomagot tegnap küldve\n"), "A csomagot tegnap küldve");
}

TEST(ReplyText, TextWithADigitRightAboveAWrappedHeaderStays) {
  // Yahoo puts the header right below the reply; an address line with
  // digits is not the header's first line.
  EXPECT_EQ(visible_reply("Calle Mayor, 12, 28013 Madrid\n  On Friday, 1 March 2024, 10:20:31 CET, Ana\n"
                          "<ana@example.com> wrote:\n\nWhat is your address?\n"),
            "Calle Mayor, 12, 28013 Madrid");
}

TEST(ReplyText, SpanishICloudAndCatalanHeaders) {
  EXPECT_EQ(visible_reply("Perfecto.\n\nEl 4/5/2024 9:10, Ana Ruiz <ana@example.es> escribieron:\n\nTe va bien?\n"),
            "Perfecto.");
  EXPECT_EQ(visible_reply("D'acord.\n\nEl 4/5/2024 9:10, Jordi <jordi@example.cat> ha escrit:\n> Et va bé?\n"),
            "D'acord.");
}

TEST(ReplyText, PolishWebmailHeadersAndAFlattenedBlock) {
  EXPECT_EQ(visible_reply("Dzięki.\n\nNadawca: Ana <ana@example.pl>\nAdresat: biuro@example.pl\nTemat: faktura\n\nCzy "
                          "dotarła?\n"),
            "Dzięki.");
  // The same block with its line breaks lost.
  EXPECT_EQ(visible_reply("Dzięki.\nTemat: RE: faktura Data: 2024-03-02 08:15Nadawca: \"Ana\" ana@example.pl Adresat:\n"
                          "Czy dotarła?\n"),
            "Dzięki.");
  // A line with one key, or a sender's word with no colon after it, is text.
  EXPECT_EQ(visible_reply("Subject: the invoice from Ana, ana@example.com\nis paid.\n"),
            "Subject: the invoice from Ana, ana@example.com\nis paid.");
}

TEST(ReplyText, OriginalMessageMarkerWithTheHeaderGluedOn) {
  EXPECT_EQ(
      visible_reply("Welche Nummer?\nGruß\n-------- Ursprüngliche Nachricht --------Von: \"Shop\"  Datum: 02.03.24  "
                    "10:15  An: Betreff: Ihre Rücksendung\n\nHallo Max,\n"),
      "Welche Nummer?\nGruß");
  // A title between rules followed by text that is no header stays.
  EXPECT_EQ(visible_reply("-------- Original Message --------is what the old client printed.\n"),
            "-------- Original Message --------is what the old client printed.");
}

TEST(ReplyText, WrappedAddressAndOldGmailHeader) {
  // The address opened on the first line goes on, even when it starts with digits.
  EXPECT_EQ(
      visible_reply("Done.\n\nOn Nov 3, 2023, at 9:15 AM, Shop <\n42orders@shop.example.com>\nwrote:\n\nYour order\n"),
      "Done.");
  // A date, a name and an address with no colon, right above quoted lines.
  EXPECT_EQ(visible_reply("Works.\n2023/11/3 Ana <ana@example.com>\n\n> Does it?\n"), "Works.");
  // Not above quoted lines, it is text.
  EXPECT_EQ(visible_reply("Contacts:\n2023/11/3 Ana <ana@example.com>\n"),
            "Contacts:\n2023/11/3 Ana <ana@example.com>");
}

TEST(ReplyText, SentAsTheVerbOfAFullHeader) {
  EXPECT_EQ(visible_reply("Thanks.\n\nOn 3-Nov-2023, at 9:15 AM, Ana <ana@example.com> sent:\n\n> Ok?\n"), "Thanks.");
  // Without an address it is a sentence.
  EXPECT_EQ(visible_reply("On 3 November I sent:\n\nthe invoice and the contract.\n"),
            "On 3 November I sent:\n\nthe invoice and the contract.");
}

TEST(ReplyText, EmDashRuleStartsASignature) {
  EXPECT_EQ(visible_reply("好的，周六见。\n\n——————————————\n\n小林\n项目经理\n"), "好的，周六见。");
  // One em dash, or a few, is the sender's own.
  EXPECT_EQ(visible_reply("Done.\n\n—\nAna\n"), "Done.\n\n—\nAna");
  EXPECT_EQ(visible_reply("Done.\n\n———\nAna\n"), "Done.\n\n———\nAna");
}

TEST(ReplyText, FooterOnTheFirstLineHidesOnlyItself) {
  EXPECT_EQ(visible_reply("Sent from my iPhone\n\nHi,\n\nthe invoice is attached.\n\nKate\n"),
            "Hi,\n\nthe invoice is attached.\n\nKate");
  // Below the reply it still hides what follows it.
  EXPECT_EQ(visible_reply("Hi,\nyes.\nSent from my iPhone\n\nana@example.com wrote:\n\nOk?\n"), "Hi,\nyes.");
  EXPECT_EQ(visible_reply("Sent from my iPhone\n"), "");
}

TEST(ReplyText, InlineAnswersAreKeptWithoutTheQuotes) {
  const std::string body =
      "On Tue, Apr 29, 2014 at 4:22 PM, Dev <dev@example.com> wrote:\n\n> first question?\n\nFirst answer.\n\n"
      "> second question?\n\nSecond answer.\n\n> old\n\n-- \nSig\n";
  EXPECT_EQ(visible_reply(body), "First answer.\nSecond answer.");
}

TEST(ReplyText, CrLfAndLoneCrAreLineBreaks) {
  EXPECT_EQ(
      visible_reply("Yes.\r\n\r\nOn Tue, Sep 25, 2012 at 8:59 AM, Chris\r\n<c@example.com>wrote:\r\n\r\n> old\r\n"),
      "Yes.");
  EXPECT_EQ(visible_reply("Yes.\r\rSent from my iPhone\r"), "Yes.");
}

TEST(ReplyText, FragmentsJoinBackToTheBody) {
  const std::string body = "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, A wrote:\n> q\n\nanswer\n\n> more\n\n-- \nsig\n";
  // Trailing spaces go, except in the "-- " delimiter.
  EXPECT_EQ(reply_fragments("Hi  \n\n-- \nsig\n").at(0).text, "Hi\n");
  const std::vector<ReplyFragment> fragments = reply_fragments(body);
  std::string joined;
  for (std::size_t i = 0; i < fragments.size(); ++i) joined += (i > 0 ? "\n" : "") + fragments[i].text;
  EXPECT_EQ(joined, body);
}

// Random bodies made of the pieces the classifiers look for: no exception,
// and the fragments always join back to the body less trailing spaces.
TEST(ReplyText, RandomBodiesOfMarkerPieces) {
  const char* pieces[] = {"-",      "--",   "_",  "-- ",  "=",    ">",    "> ",     "On ",    "wrote",
                          ":",      "：",   "\n", "\r\n", "\r",   " ",    "\t",     "2024",   "@",
                          "<",      ">",    "a",  "é",    "\xFF", "\xC2", "From: ", "Sent: ", "Sent from my ",
                          "iPhone", "写道", "Am "};
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const std::uint32_t count = next() % 60;
    for (std::uint32_t i = 0; i < count; ++i) body += pieces[next() % std::size(pieces)];
    std::vector<ReplyFragment> fragments;
    ASSERT_NO_THROW(fragments = reply_fragments(body)) << body;
    ASSERT_NO_THROW(visible_text(fragments)) << body;
    std::string joined;
    for (std::size_t i = 0; i < fragments.size(); ++i) joined += (i > 0 ? "\n" : "") + fragments[i].text;
    std::string normalised;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\r') {
        normalised += body[i];
      } else {
        normalised += '\n';
        if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
      }
    }
    auto strip_line_ends = [](const std::string& text) {
      std::string out;
      std::size_t start = 0;
      for (;;) {
        const std::size_t end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        out += line;
        if (end == std::string::npos) return out;
        out += '\n';
        start = end + 1;
      }
    };
    EXPECT_EQ(strip_line_ends(joined), strip_line_ends(normalised)) << body;
  }
}

TEST(ReplyText, ManyHeadersStayLinear) {
  // Every header hides the fragments below it; marking them must not cost
  // a pass over those fragments per header. Four times the headers must
  // take about four times as long (a pass per header: sixteen), whatever
  // the machine's speed or a sanitizer's slowdown.
  auto seconds_for = [](int headers) {
    std::string body = "Hi\n";
    for (int i = 0; i < headers; ++i) body += "text\nOn 1 Jan 2024, Ana <ana@example.com> wrote:\n";
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(visible_reply(body), "Hi\ntext");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  seconds_for(20'000);  // warm-up
  const double small = seconds_for(20'000);
  const double large = seconds_for(80'000);
  EXPECT_LT(large, 10 * small) << small << " s for 20,000 headers, " << large << " s for 80,000";
}

TEST(ReplyText, LongLinesStayFast) {
  std::string body = "Hi\n\n" + std::string(2'000'000, '>') + "\nasdf\nA" + std::string(2'000'000, '>') + "\n";
  body += "On " + std::string(1'000'000, 'x') + " wrote:\n" + std::string(1'000'000, '-') + "\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(visible_reply(body).substr(0, 2), "Hi");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// --- The reference suites -------------------------------------------------

std::string reply_test_read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string reply_test_strip(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const std::size_t first = s.find_first_not_of(ws);
  if (first == std::string_view::npos) return "";
  return std::string(s.substr(first, s.find_last_not_of(ws) - first + 1));
}

std::string reply_test_rstrip(std::string s) {
  while (!s.empty() && std::string_view(" \t\n\r\f\v").find(s.back()) != std::string_view::npos) s.pop_back();
  return s;
}

// github/email_reply_parser: the non-hidden fragments joined, right-stripped.
std::string github_visible_text(const std::vector<ReplyFragment>& fragments) {
  std::string out;
  bool first = true;
  for (const ReplyFragment& f : fragments) {
    if (f.hidden) continue;
    out += (first ? "" : "\n") + f.text;
    first = false;
  }
  return reply_test_rstrip(out);
}

// zapier/email-reply-parser: the stripped non-hidden, non-quoted fragments joined.
std::string zapier_reply(const std::vector<ReplyFragment>& fragments) {
  std::string out;
  bool first = true;
  for (const ReplyFragment& f : fragments) {
    if (f.hidden || f.quoted) continue;
    out += (first ? "" : "\n") + reply_test_strip(f.text);
    first = false;
  }
  return out;
}

// Ruby and Python regexes as ECMAScript: "\:" is a plain ':'.
std::regex reply_test_regex(std::string pattern, bool multiline) {
  for (std::size_t at = pattern.find("\\:"); at != std::string::npos; at = pattern.find("\\:", at)) {
    pattern.erase(at, 1);
  }
  auto flags = std::regex::ECMAScript;
  if (multiline) flags |= std::regex::multiline;
  return std::regex(pattern, flags);
}

struct SuiteTally {
  int exact_passed = 0;
  int exact_total = 0;
  int checks_passed = 0;
  int checks_total = 0;
};

void expect_check(SuiteTally& tally, bool ok, bool exact, const std::string& what) {
  ++tally.checks_total;
  if (exact) ++tally.exact_total;
  if (ok) {
    ++tally.checks_passed;
    if (exact) ++tally.exact_passed;
  }
  EXPECT_TRUE(ok) << what;
}

void expect_flags(SuiteTally& tally, const nlohmann::json& expected, const std::vector<ReplyFragment>& fragments,
                  const char* flag, bool ReplyFragment::*member, const std::string& name) {
  if (!expected.contains(flag)) return;
  std::vector<bool> actual;
  for (const ReplyFragment& f : fragments) actual.push_back(f.*member);
  expect_check(tally, actual == expected[flag].get<std::vector<bool>>(), false, name + ": " + flag + " flags");
}

void run_suite(const std::string& suite_name, SuiteTally& tally) {
  const std::filesystem::path root = std::filesystem::path(GHOSTWATCH_SHARED_DIR) / "data" / "email";
  const nlohmann::json suites = nlohmann::json::parse(reply_test_read_file(root / "reply-expected.json"));
  const nlohmann::json& suite = suites.at(suite_name);
  const std::filesystem::path dir = root / suite.at("fixture_dir").get<std::string>();
  const bool github = suite_name.rfind("github/", 0) == 0;
  for (const auto& [file, expected] : suite.at("fixtures").items()) {
    const std::string name = suite_name + "/" + file;
    const std::string body = reply_test_read_file(dir / file);
    ASSERT_FALSE(body.empty()) << name;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<ReplyFragment> fragments = reply_fragments(body);
    const auto took = std::chrono::steady_clock::now() - start;
    if (expected.contains("performance")) {
      expect_check(tally, took < std::chrono::seconds(1), false, name + ": reading takes under 1 s");
    }
    const nlohmann::json empty_object = nlohmann::json::object();
    const nlohmann::json empty_array = nlohmann::json::array();
    const nlohmann::json& j_visible_text_not_contains =
        expected.contains("visible_text_not_contains") ? expected["visible_text_not_contains"] : empty_array;
    const nlohmann::json& j_reply_contains =
        expected.contains("reply_contains") ? expected["reply_contains"] : empty_array;
    const nlohmann::json& j_fragment_equals =
        expected.contains("fragment_equals") ? expected["fragment_equals"] : empty_object;
    const nlohmann::json& j_fragment_regex =
        expected.contains("fragment_regex") ? expected["fragment_regex"] : empty_object;
    const nlohmann::json& j_fragment_regex_match =
        expected.contains("fragment_regex_match") ? expected["fragment_regex_match"] : empty_object;
    const nlohmann::json& j_fragment_contains =
        expected.contains("fragment_contains") ? expected["fragment_contains"] : empty_object;
    const std::string suite_visible = github ? github_visible_text(fragments) : zapier_reply(fragments);
    if (expected.contains("visible_text")) {
      const std::string want = expected["visible_text"].get<std::string>();
      expect_check(tally, suite_visible == want, true,
                   name + ": visible text\n--- want ---\n" + want + "\n--- got ---\n" + suite_visible);
      EXPECT_EQ(visible_reply(body), want) << name << ": visible_reply";
    }
    if (expected.contains("visible_text_stripped")) {
      const std::string want = expected["visible_text_stripped"].get<std::string>();
      expect_check(tally, reply_test_strip(suite_visible) == want, true,
                   name + ": stripped visible text, got:\n" + suite_visible);
      EXPECT_EQ(reply_test_strip(visible_reply(body)), want) << name << ": visible_reply";
    }
    for (const auto& s : j_visible_text_not_contains) {
      expect_check(tally, suite_visible.find(s.get<std::string>()) == std::string::npos, false,
                   name + ": visible text without " + s.get<std::string>());
    }
    for (const auto& s : j_reply_contains) {
      expect_check(tally, suite_visible.find(s.get<std::string>()) != std::string::npos, false,
                   name + ": visible text with " + s.get<std::string>());
    }
    if (expected.contains("fragment_count")) {
      expect_check(tally, fragments.size() == expected["fragment_count"].get<std::size_t>(), false,
                   name + ": fragment count " + std::to_string(fragments.size()));
    }
    expect_flags(tally, expected, fragments, "quoted", &ReplyFragment::quoted, name);
    expect_flags(tally, expected, fragments, "signature", &ReplyFragment::signature, name);
    expect_flags(tally, expected, fragments, "hidden", &ReplyFragment::hidden, name);
    auto fragment = [&](const std::string& index) -> std::string {
      const std::size_t i = std::stoul(index);
      if (i >= fragments.size()) return "<no fragment " + index + ">";
      return github ? fragments[i].text : reply_test_strip(fragments[i].text);
    };
    for (const auto& [index, want] : j_fragment_equals.items()) {
      expect_check(tally, fragment(index) == want.get<std::string>(), false, name + ": fragment " + index + " equals");
    }
    for (const auto& [index, patterns] : j_fragment_regex.items()) {
      for (const auto& p : patterns) {
        const bool ok = std::regex_search(fragment(index), reply_test_regex(p.get<std::string>(), true));
        expect_check(tally, ok, false, name + ": fragment " + index + " matches " + p.get<std::string>());
      }
    }
    for (const auto& [index, patterns] : j_fragment_regex_match.items()) {
      for (const auto& p : patterns) {
        const std::string text = fragment(index);
        const bool ok = std::regex_search(text, reply_test_regex(p.get<std::string>(), false),
                                          std::regex_constants::match_continuous);
        expect_check(tally, ok, false, name + ": fragment " + index + " starts with " + p.get<std::string>());
      }
    }
    for (const auto& [index, needles] : j_fragment_contains.items()) {
      for (const auto& n : needles) {
        expect_check(tally, fragment(index).find(n.get<std::string>()) != std::string::npos, false,
                     name + ": fragment " + index + " contains " + n.get<std::string>());
      }
    }
  }
  std::cout << "[ suite    ] " << suite_name << ": exact visible text " << tally.exact_passed << "/"
            << tally.exact_total << ", all expectations " << tally.checks_passed << "/" << tally.checks_total << "\n";
  ::testing::Test::RecordProperty("exact_passed", tally.exact_passed);
  ::testing::Test::RecordProperty("exact_total", tally.exact_total);
}

// A bottom post: the greeting and the answer below the quote, joined
// without the quote, its header, the list footer or trailing spaces.
TEST(ReplyTextSuites, BottomPostKeepsGreetingAndAnswer) {
  const std::filesystem::path file =
      std::filesystem::path(GHOSTWATCH_SHARED_DIR) / "data/email/reply-github/test/emails/email_1_2.txt";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no " << file;
  const std::string reply = visible_reply(reply_test_read_file(file));
  EXPECT_EQ(reply.rfind("Hi,\nYou can list the keys for the bucket and call delete for each. Or if you\n", 0), 0u)
      << reply;
  EXPECT_NE(reply.find("RiakBucketInfo bucketInfo = bucketResponse.getBucketInfo();\n\n        for(String key"),
            std::string::npos)
      << reply;
  EXPECT_NE(reply.find("\n\nSee also\n\nhttp://wiki.basho.com/REST-API.html#Bucket-operations\n"), std::string::npos)
      << reply;
  EXPECT_TRUE(reply.ends_with("delete them all individually.\"")) << reply;
  EXPECT_EQ(reply.find('>'), std::string::npos) << reply;
}

bool reply_suites_present() {
  return std::filesystem::exists(std::filesystem::path(GHOSTWATCH_SHARED_DIR) / "data/email/reply-expected.json");
}

TEST(ReplyTextSuites, GithubEmailReplyParser) {
  if (!reply_suites_present()) GTEST_SKIP() << "no " GHOSTWATCH_SHARED_DIR "/data/email/reply-expected.json";
  SuiteTally tally;
  run_suite("github/email_reply_parser", tally);
  EXPECT_EQ(tally.exact_total, 8);
}

TEST(ReplyTextSuites, ZapierEmailReplyParser) {
  if (!reply_suites_present()) GTEST_SKIP() << "no " GHOSTWATCH_SHARED_DIR "/data/email/reply-expected.json";
  SuiteTally tally;
  run_suite("zapier/email-reply-parser", tally);
  EXPECT_EQ(tally.exact_total, 5);
}

}  // namespace
}  // namespace gw::inbound
