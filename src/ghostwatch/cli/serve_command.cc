// `ghostwatch serve`: the live service (docs/api.md, docs/operations.md).
#include <fmt/format.h>
#include <signal.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "ghostwatch/bus/event_publisher.h"
#include "ghostwatch/bus/partition_consumer.h"
#include "ghostwatch/cli/commands.h"
#include "ghostwatch/cluster/worker.h"
#include "ghostwatch/core/clock.h"
#include "ghostwatch/delivery/case_opener.h"
#include "ghostwatch/delivery/mail_dispatcher.h"
#include "ghostwatch/inbound/intake.h"
#include "ghostwatch/inbound/maildir.h"
#include "ghostwatch/mail/mail_config.h"
#include "ghostwatch/risk/risk_model.h"
#include "ghostwatch/server/http_api.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/open_store.h"
#include "ghostwatch/tickets/webhook.h"
#include "ghostwatch/tickets/zendesk.h"

namespace gw::cli {
namespace {

struct ServeArgs {
  std::string config;
  std::string data = "ghostwatch-data";
  std::string store;
  std::string listen = "127.0.0.1:8080";
  std::string clock = "wall";
  std::string log_format = "text";
  std::string token_file;
  std::string inbound_maildir;
  std::string web_root;  // empty: web/ beside the binary, when it is there
  std::string bus;       // --bus: the event log's servers (or [bus] url)
  std::string worker_id;  // bus mode: this worker's name among the others (default HOST:PID)
  std::string model;     // --model: the risk model (train's model.json); empty: none
  std::size_t max_body_mb = 64;
  int threads = 16;
  std::uint64_t snapshot_every = 1'000'000;  // log entries between snapshots; 0: none
  bool compact_log = false;
};

// HOST:PID, this process's name among the workers.
std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return fmt::format("{}:{}", host, ::getpid());
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// "read TOKEN" / "write TOKEN" lines; '#' comments.
Status read_token_file(const std::string& path, ApiTokens& tokens) {
  std::ifstream in(path);
  if (!in) return Status::error(fmt::format("--token-file {}: cannot read it", path));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string scope, token, extra;
    words >> scope >> token >> extra;
    if (scope.empty() || scope[0] == '#') continue;
    if ((scope != "read" && scope != "write") || token.empty() || !extra.empty()) {
      return Status::error(fmt::format("--token-file {}:{}: expected \"read TOKEN\" or \"write TOKEN\"", path, n));
    }
    (scope == "read" ? tokens.read : tokens.write).push_back(token);
  }
  return Status::ok();
}

void tokens_from_env(const char* name, std::vector<std::string>& out) {
  const char* v = std::getenv(name);
  if (v == nullptr) return;
  std::istringstream in(v);
  for (std::string t; std::getline(in, t, ',');) {
    if (!t.empty()) out.push_back(t);
  }
}

// The dashboard's files: --web-root, or else web/ beside the binary (where
// the build puts them: build/web for build/ghostwatch), or none.
Result<std::string> dashboard_root(const std::string& flag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!flag.empty()) {
    if (!fs::is_regular_file(fs::path(flag) / "index.html", ec)) {
      return Status::error(fmt::format("--web-root {}: no index.html there (build it with scripts/build.sh)", flag));
    }
    return flag;
  }
  const fs::path beside = fs::read_symlink("/proc/self/exe", ec).parent_path() / "web";
  if (ec || !fs::is_regular_file(beside / "index.html", ec)) return std::string();
  return beside.string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The sections of the config file that are not the engine's policy: read
// at start only, and not part of what a reload compares.
bool is_delivery_key(const std::string& key) {
  for (const char* section : {"mail", "smtp", "webhook", "zendesk", "bus"}) {
    const std::string_view k(key);
    if (k == section || (k.rfind(section, 0) == 0 && k.size() > std::strlen(section) && k[std::strlen(section)] == '.')) {
      return true;
    }
  }
  return false;
}

// The policy part of the config text (without [mail], [smtp], [webhook], [zendesk], [bus]), which the
// service keeps and compares on reload; a bad file is returned as it is (load_policy has
// refused it already).
std::string policy_part(const std::string& text) {
  try {
    toml::table root = toml::parse(text);
    root.erase("mail");
    root.erase("smtp");
    root.erase("webhook");
    root.erase("zendesk");
    root.erase("bus");
    std::ostringstream out;
    out << root;
    return out.str();
  } catch (const toml::parse_error&) {
    return text;
  }
}

// Every nudge step of the ladder names a template of the set.
Status check_ladder_templates(const Policy& policy, const mail::TemplateSet& templates, const std::string& dir) {
  for (std::size_t i = 0; i < policy.ladder.size(); ++i) {
    const LadderStep& step = policy.ladder[i];
    if (step.action == StepAction::kNudge && !templates.has(step.target)) {
      return Status::error(fmt::format("ladder[{}].target: no template \"{}\" in {}", i + 1, step.target, dir));
    }
  }
  return Status::ok();
}

// E-mail delivery, when the config has a [mail] section.
struct Mailer {
  std::unique_ptr<mail::MailComposer> composer;
  std::unique_ptr<mail::SmtpTransport> transport;
};

Result<std::optional<Mailer>> load_mailer(const std::string& config, const std::string& text, const Policy& policy,
                                          Logger& logger) {
  if (!mail::has_mail_section(text)) return std::optional<Mailer>();
  auto mail_config = mail::load_mail_config(config);
  if (!mail_config) return mail_config.status();
  for (const auto& key : mail_config->unknown_keys) logger.log("warn", "unknown config key ignored", {{"key", key}});
  auto templates = mail::TemplateSet::load(mail_config->template_dir);
  if (!templates) return Status::error("templates: " + templates.message());
  if (Status s = check_ladder_templates(policy, *templates, mail_config->template_dir); !s) return s;
  if (!mail_config->client_checkin.empty() && !templates->has(mail_config->client_checkin)) {
    return Status::error(fmt::format("mail.client_checkin: no template \"{}\" in {}", mail_config->client_checkin,
                                     mail_config->template_dir));
  }
  Mailer m;
  m.transport = std::make_unique<mail::SmtpTransport>(mail_config->smtp);
  m.composer = std::make_unique<mail::MailComposer>(std::move(*mail_config), std::move(*templates));
  return std::optional<Mailer>(std::move(m));
}

// SIGHUP: the config file's policy becomes the rules from now on
// (Service::reload), once it is valid, every nudge step has a template and,
// when it reads risk scores, a model is configured. [mail], [smtp] and the
// model are read at start only. In bus mode the same policy goes to
// `worker`, whose partitions switch to it between two batches.
// SIGHUP: the config (`path`), and the risk model (`model_path`, when
// serve was started with one) read again; each applied when it changed.
Status reload_config(const std::string& path, const std::string& model_path, Service& service,
                     const mail::MailComposer* composer, cluster::Worker* worker, Logger& logger) {
  auto fresh = load_policy(path);
  if (!fresh) return fresh.status();
  if (Status s = require_risk_model(*fresh, path, service.scores_risk()); !s) return s;
  if (composer != nullptr) {
    if (Status s = check_ladder_templates(*fresh, composer->templates(), composer->config().template_dir); !s) {
      return Status::error(fmt::format("{}: {}", path, s.message()));
    }
  }
  const std::string policy_text = policy_part(read_text(path));
  const std::string model_text = model_path.empty() ? std::string() : read_text(model_path);
  if (!model_path.empty()) {  // checked before anything switches, so a bad model changes nothing
    if (auto model = risk::RiskModel::parse(model_text, model_path); !model) return model.status();
  }
  auto changed = service.reload(policy_text);
  if (!changed) return changed.status();
  logger.log("info", *changed ? "config reloaded: the new rules apply from now on" : "config reloaded: unchanged");
  if (!model_path.empty()) {
    auto model_changed = service.reload_model(model_text, model_path);
    if (!model_changed) return model_changed.status();
    if (*model_changed) logger.log("info", "risk model reloaded: episodes opening from now on are scored with it");
  }
  if (worker != nullptr) worker->reload(policy_text, model_text);
  return Status::ok();
}

int run(const ServeArgs& args) {
  auto fail = [](const std::string& message, int status = kExitUsage) {
    fmt::print(stderr, "ghostwatch serve: {}\n", message);
    return status;
  };
  // Signals go to one thread, which turns them into a drain or a reload;
  // blocked before any thread starts (the store's too), which inherit that.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SystemClock clock;
  Logger logger(args.log_format == "json" ? LogFormat::kJson : LogFormat::kText, clock);

  auto policy = load_policy(args.config);
  if (!policy) return fail("bad config: " + policy.message());
  if (Status s = require_risk_model(*policy, args.config, !args.model.empty()); !s) {
    return fail("bad config: " + s.message());
  }
  std::string model_text;
  if (!args.model.empty()) {
    // As replay refuses it; the service keeps the text in its log.
    if (auto model = risk::RiskModel::load(args.model); !model) return fail("bad model: " + model.message());
    model_text = read_text(args.model);
  }
  for (const auto& key : policy->unknown_keys) {
    if (!is_delivery_key(key)) logger.log("warn", "unknown config key ignored", {{"key", key}});
  }
  const std::string config_text = read_text(args.config);
  const std::string policy_text = policy_part(config_text);
  auto mailer = load_mailer(args.config, config_text, *policy, logger);
  if (!mailer) return fail("bad config: " + mailer.message());
  if (!mailer->has_value()) {
    logger.log("warn", "no [mail] section in the config: nudges are recorded in the outbox but not e-mailed");
  }
  std::vector<std::string> webhook_unknown;  // and [zendesk]
  auto webhook = parse_webhook_config(config_text, args.config, process_env, &webhook_unknown);
  if (!webhook) return fail("bad config: " + webhook.message());
  auto zendesk = parse_zendesk_config(config_text, args.config, process_env, &webhook_unknown);
  if (!zendesk) return fail("bad config: " + zendesk.message());
  auto bus_settings = bus::bus_settings(config_text, args.config, args.bus, &webhook_unknown);
  if (!bus_settings) return fail("bad config: " + bus_settings.message());
  for (const auto& key : webhook_unknown) logger.log("warn", "unknown config key ignored", {{"key", key}});

  const auto colon = args.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) port = std::atoi(args.listen.c_str() + colon + 1);
  if (colon == std::string::npos || port < 0 || port > 65535) {
    return fail(fmt::format("--listen: expected HOST:PORT, not \"{}\"", args.listen));
  }
  std::string host = args.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  HttpOptions http;
  http.max_body_bytes = args.max_body_mb << 20;
  http.threads = args.threads;
  if (mailer->has_value()) http.opt_out_tokens = &(*mailer)->composer->tokens();
  auto web_root = dashboard_root(args.web_root);
  if (!web_root) return fail(web_root.message());
  http.web_root = *web_root;
  if (!args.token_file.empty()) {
    if (Status s = read_token_file(args.token_file, http.tokens); !s) return fail(s.message());
  }
  tokens_from_env("GHOSTWATCH_READ_TOKENS", http.tokens.read);
  tokens_from_env("GHOSTWATCH_WRITE_TOKENS", http.tokens.write);
  if (!is_loopback(host) && !http.tokens.enabled()) {
    return fail(fmt::format("refusing to listen on {} without tokens: set GHOSTWATCH_WRITE_TOKENS / "
                            "GHOSTWATCH_READ_TOKENS or --token-file (an open API is for loopback only)",
                            host));
  }

  std::string store_spec = args.store;
  if (store_spec.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.data, ec);
    if (ec) return fail(fmt::format("--data {}: {}", args.data, ec.message()));
    store_spec = "sqlite:" + (std::filesystem::path(args.data) / "ghostwatch.db").string();
  }
  auto opened = open_store(store_spec);
  if (!opened) return fail(opened.message());
  Store& store = *opened->store;
  // Bus mode: events go to the event log, for the workers; this process's
  // engine does not see them.
  std::unique_ptr<bus::EventPublisher> publisher;
  bus::BusMetrics bus_metrics;
  if (bus_settings->has_value()) {
    if (opened->schema_version == 0) {
      return fail("--bus: the event log needs a PostgreSQL store (--store postgres://...), not " + store_spec);
    }
    auto connected = bus::EventPublisher::open(**bus_settings, store_spec, clock);
    if (!connected) return fail(connected.message());
    publisher = std::move(*connected);
    publisher->report_to(&bus_metrics);
    http.bus_metrics = &bus_metrics;
    logger.log("info", "bus mode: events go to the event log; this process is one of its workers",
               {{"servers", (*bus_settings)->url},
                {"stream", (*bus_settings)->stream},
                {"partitions", std::to_string((*bus_settings)->partitions)}});
  }
  const ClockMode mode = args.clock == "events" ? ClockMode::kEvents : ClockMode::kWall;
  // Bus mode: this process is also a worker, applying its share of the
  // event log's partitions; the holder of the delivery lease drains the outbox.
  std::unique_ptr<cluster::Worker> worker;
  if (publisher) {
    cluster::WorkerSettings ws;
    ws.bus = **bus_settings;
    ws.store_url = store_spec;
    ws.policy_text = policy_text;
    ws.model_text = model_text;
    ws.model_source = args.model;
    ws.mode = mode;
    ws.id = args.worker_id.empty() ? default_worker_id() : args.worker_id;
    ws.metrics = &bus_metrics;
    ws.snapshot_every = args.snapshot_every;
    ws.compact_log = args.compact_log;
    auto started = cluster::Worker::start(std::move(ws), clock, logger);
    if (!started) return fail(started.message());
    worker = std::move(*started);
  }
  const auto may_deliver = [&worker] { return !worker || worker->holds_delivery(); };

  auto service = Service::open(policy_text, store, clock, mode, std::nullopt, model_text, args.model);
  if (!service) return fail(service.message());
  (*service)->set_snapshots(args.snapshot_every, args.compact_log);
  if (publisher) {
    BusFront front;
    front.publish = [&publisher](std::string_view body, const std::string& key) {
      bus::PublishReply r = publisher->publish(body, key);
      return IngestReply{r.status, std::move(r.body), r.replayed};
    };
    front.advance = [&publisher](Instant to) {
      return publisher->publish_control(bus::kEvaluateThrough, std::to_string(to));
    };
    front.bounce = [&publisher](std::string_view user, std::string_view address) {
      return publisher->publish_control(bus::kBounce, bounce_text(user, address));
    };
    (*service)->set_bus_front(std::move(front));
  }

  // Inbound e-mail: replies to our Reply-To tokens, opt-outs by mail, bounces.
  inbound::IntakeSettings intake_settings;
  if (mailer->has_value()) {
    intake_settings.tokens = &(*mailer)->composer->tokens();
    intake_settings.inbound_domain = (*mailer)->composer->config().inbound_domain;
  }
  inbound::Intake intake(**service, store, clock, intake_settings);
  http.intake = &intake;
  std::optional<inbound::MaildirWatcher> maildir;
  if (!args.inbound_maildir.empty()) {
    auto opened = inbound::MaildirWatcher::open(args.inbound_maildir, intake);
    if (!opened) return fail(opened.message());
    maildir.emplace(std::move(*opened));
  }

  RequestMetrics metrics;
  HttpApi api(**service, store, clock, metrics, logger, http);
  auto bound = api.bind(host, port);
  if (!bound) return fail(bound.message());
  logger.log("info", "listening",
             {{"url", fmt::format("http://{}:{}", args.listen.substr(0, colon), *bound)},
              {"clock", args.clock},
              {"store", opened->description},
              {"recovered_log_entries", std::to_string((*service)->counters().log_entries)},
              {"recovery_seconds", fmt::format("{:.3f}", (*service)->recovery_seconds())}});
  if (http.web_root.empty()) {
    logger.log("warn", "no dashboard files (web/ beside the binary, or --web-root): / is not served");
  } else {
    logger.log("info", "dashboard",
               {{"url", fmt::format("http://{}:{}/", args.listen.substr(0, colon), *bound)}, {"files", http.web_root}});
  }

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  // Threads that run a pass every `period` until the service stops.
  std::vector<std::thread> workers;
  auto every = [&](std::chrono::milliseconds period, std::function<void()> pass) {
    workers.emplace_back([&, period, pass = std::move(pass)] {
      std::unique_lock lock(stop_mu);
      while (!stop_cv.wait_for(lock, period, [&] { return stopping; })) {
        lock.unlock();
        pass();
        lock.lock();
      }
    });
  };
  every(std::chrono::milliseconds(100), [&] {
    if (Status s = (*service)->tick(); !s) logger.log("error", "clock tick failed", {{"error", s.message()}});
  });
  if (publisher) {
    // Messages recorded while the bus was away (answered 202), or by a
    // publisher that died: out as soon as the bus takes them.
    every(std::chrono::milliseconds(1000), [&, failing = false]() mutable {
      auto flushed = publisher->flush_pending();
      if (!flushed && !failing) {
        logger.log("warn", "recorded events wait for the bus", {{"error", flushed.message()}});
      } else if (flushed && flushed->stored + flushed->duplicates > 0) {
        logger.log("info", "recorded events published",
                   {{"stored", std::to_string(flushed->stored)}, {"duplicates", std::to_string(flushed->duplicates)}});
      }
      failing = !flushed;
    });
  }
  // Escalations open their cases, e-mail or not.
  const bool client_checkin = mailer->has_value() && !(*mailer)->composer->config().client_checkin.empty();
  CaseOpener case_opener(store, clock, client_checkin);
  every(std::chrono::milliseconds(200), [&] {
    if (!may_deliver()) return;
    if (auto taken = case_opener.run_once(); !taken) {
      logger.log("error", "opening cases stopped for now", {{"error", taken.message()}});
    } else if (*taken > 0) {
      logger.log("info", "cases opened or reopened", {{"escalations", std::to_string(*taken)}});
    }
  });
  if (maildir) {
    every(std::chrono::milliseconds(500), [&] {
      const inbound::MaildirWatcher::Pass pass = maildir->run_once();
      if (pass.taken + pass.duplicates + pass.failed == 0) return;
      logger.log(pass.failed == 0 ? "info" : "warn", "inbound e-mail taken from the maildir",
                 {{"taken", std::to_string(pass.taken)},
                  {"duplicates", std::to_string(pass.duplicates)},
                  {"failed", std::to_string(pass.failed)},
                  {"error", pass.last_error}});
    });
  }
  // Case changes to the webhook and to Zendesk, when configured: a thread each.
  std::vector<std::shared_ptr<CaseMirror>> mirrors;
  if (webhook->has_value()) {
    mirrors.push_back(
        std::make_shared<CaseMirror>(store, clock, "webhook.cursor", (*webhook)->retry, WebhookTarget(**webhook)));
  }
  if (zendesk->has_value()) {
    mirrors.push_back(std::make_shared<CaseMirror>(store, clock, "zendesk.cursor", (*zendesk)->retry,
                                                   ZendeskTarget(store, **zendesk)));
  }
  for (const auto& mirror : mirrors) {
    every(std::chrono::milliseconds(500), [&, mirror] {
      if (!may_deliver()) return;
      auto pass = mirror->run_once();
      if (!pass) {
        logger.log("error", "mirroring cases stopped for now", {{"error", pass.message()}});
      } else if (pass->delivered + pass->refused > 0 || !pass->last_error.empty()) {
        logger.log(pass->last_error.empty() ? "info" : "warn", "cases mirrored",
                   {{"delivered", std::to_string(pass->delivered)},
                    {"refused", std::to_string(pass->refused)},
                    {"error", pass->last_error}});
      }
    });
  }
  std::unique_ptr<MailDispatcher> dispatcher;
  std::thread delivery;
  if (mailer->has_value()) {
    mail::SmtpTransport& transport = *(*mailer)->transport;
    dispatcher = std::make_unique<MailDispatcher>(
        store, **service, *(*mailer)->composer,
        [&transport](std::string_view from, std::string_view rcpt, std::string_view bytes) {
          return transport.send(from, rcpt, bytes);
        },
        clock, policy->name, std::random_device{}());
    delivery = std::thread([&] {
      std::unique_lock lock(stop_mu);
      while (!stopping) {
        if (!may_deliver()) {
          stop_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping; });
          continue;
        }
        lock.unlock();
        auto pass = dispatcher->run_once();
        if (!pass) {
          logger.log("error", "mail delivery stopped for now", {{"error", pass.message()}});
        } else if (pass->handled() > 0) {
          logger.log("info", "mail delivery",
                     {{"sent", std::to_string(pass->sent)},
                      {"retrying", std::to_string(pass->retrying)},
                      {"failed", std::to_string(pass->failed)},
                      {"paced", std::to_string(pass->paced)}});
        }
        lock.lock();
        // A full page may have more behind it; otherwise wait a little.
        if (!pass || pass->handled() == 0) {
          stop_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping; });
        }
      }
    });
  }
  std::atomic<bool> signalled = false;
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (signalled) return;  // the server stopped by itself; this wakes the thread to end
      if (sig == SIGHUP) {
        const Status s = reload_config(args.config, args.model, **service,
                                       mailer->has_value() ? (*mailer)->composer.get() : nullptr, worker.get(), logger);
        if (!s) logger.log("error", "config reload refused; the running config stays", {{"error", s.message()}});
        continue;
      }
      signalled = true;
      logger.log("info", "draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      api.set_draining();
      api.stop();
      return;
    }
  });

  api.run();  // returns once stop() has let in-flight requests finish
  if (!signalled.exchange(true)) ::kill(::getpid(), SIGTERM);  // wake the signal thread
  {
    std::lock_guard lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  for (std::thread& t : workers) t.join();
  if (delivery.joinable()) delivery.join();
  signal_thread.join();  // before the worker goes: a SIGHUP being handled may still reach it
  worker.reset();        // gives its partitions back
  logger.log("info", "stopped");
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the live service: HTTP API, wall clock, durable state");
  cmd->add_option("--config", args->config, "Policy TOML file")->required();
  cmd->add_option("--data", args->data, "Data directory (SQLite database ghostwatch.db inside)");
  cmd->add_option("--store", args->store,
                  "Explicit store: sqlite:PATH or postgres://USER@HOST/DB (docs/operations.md)");
  cmd->add_option("--listen", args->listen, "HOST:PORT to listen on (PORT 0: any free port)");
  cmd->add_option("--clock", args->clock, "wall (live) or events (event time, as replay)")
      ->check(CLI::IsMember({"wall", "events"}));
  cmd->add_option("--log-format", args->log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--token-file", args->token_file, "Bearer tokens, one \"read TOKEN\" or \"write TOKEN\" a line");
  cmd->add_option("--web-root", args->web_root,
                  "The dashboard's built files, served at / (default: web/ beside the binary)");
  cmd->add_option("--max-body-mb", args->max_body_mb, "Largest request body accepted (MiB)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "HTTP worker threads")->check(CLI::Range(2, 1024));
  cmd->add_option("--bus", args->bus,
                  "Publish POST /v1/events to the event log on these NATS servers, nats://HOST:PORT[,...] "
                  "(or a [bus] section; needs a postgres:// store), and apply a share of its partitions as a "
                  "worker (docs/operations.md)");
  cmd->add_option("--worker-id", args->worker_id, "Bus mode: this worker's name among the workers (default HOST:PID)");
  cmd->add_option("--model", args->model,
                  "Risk model (from train): every episode is scored at its opening and carries `risk` "
                  "(docs/risk-model.md)");
  cmd->add_option("--snapshot-every", args->snapshot_every,
                  "Store a snapshot of the state every N operation log entries, so that a restart replays only "
                  "the entries after it (0: never; docs/operations.md, \"Snapshots\")");
  cmd->add_flag("--compact-log", args->compact_log,
                "Delete the operation log's rows a snapshot covers (a risk model can then no longer be added)");
  cmd->add_option("--inbound-maildir", args->inbound_maildir,
                  "Take inbound e-mail (replies, bounces) from this maildir's new/ (docs/inbound.md)");
  cmd->callback([args, &exit_status] { exit_status = run(*args); });
}

}  // namespace gw::cli
