// End-to-end test of the dashboard in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core). It starts the real
// `ghostwatch serve` with a simulated marketplace, e-mail to an SMTP sink
// (tests/smtp_sink.py) and bearer tokens; signs in; opens every page and
// checks what it shows against the API; works a case (status, outcome, a
// note) and checks the change through the API; then starts a second serve
// with a risk model (`ghostwatch train` on the same marketplace) and checks
// the At risk page's risk column and its order by risk; fails on any
// console error or failed request; saves screenshots (laptop and phone) in
// --out.
//
//   node e2e/dashboard_e2e.mjs --binary build/ghostwatch --source .. --out build/e2e-screenshots
//
// Exit status 0 when every check passed, 1 otherwise; 77 (CTest's skip)
// when Chromium or the SMTP sink's Python module is missing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const binary = resolve(args.binary ?? '../build/ghostwatch');
const source = resolve(args.source ?? '..');
const out = resolve(args.out ?? '../build/e2e-screenshots');
const CHROMIUM = '/usr/bin/chromium';
const PYTHON = '/usr/bin/python3';
const WRITE_TOKEN = 'e2e-write-token-0123456789';
const READ_TOKEN = 'e2e-read-token-0123456789';
const DATA_END = '2019-08-22T00:00:00Z';

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: no ${CHROMIUM} (apt-get install chromium)`);
  process.exit(77);
}
if (spawnSync(PYTHON, ['-c', 'import aiosmtpd']).status !== 0) {
  console.log(`SKIP: ${PYTHON} has no aiosmtpd module (apt-get install python3-aiosmtpd)`);
  process.exit(77);
}

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'ghostwatch-e2e-'));
mkdirSync(out, { recursive: true });
const children = [];
let failures = 0;

function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function until(what, fn, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Starts `ghostwatch serve` on the data directory `data` and resolves with
// its base URL once it listens.
function startServe(config, data, extra = []) {
  const serve = spawn(
    binary,
    ['serve', '--config', config, '--data', join(dir, data), '--clock', 'events', '--listen', '127.0.0.1:0',
      '--token-file', join(dir, 'tokens'), ...extra],
    { env: { ...process.env, GHOSTWATCH_E2E_MAIL_KEY: '0123456789abcdef0123456789abcdef-e2e-only' } },
  );
  children.push(serve);
  let log = '';
  return new Promise((res, rej) => {
    serve.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening url=(http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) res({ url: m[1], log: () => log });
    });
    serve.on('exit', (code) => rej(new Error(`serve exited with ${code}:\n${log}`)));
  });
}

async function call(base, path, { method = 'GET', body, type = 'application/json', token = WRITE_TOKEN } = {}) {
  const res = await fetch(base + path, {
    method,
    body,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': type } : {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function main() {
  // A marketplace, a mail sink, the service.
  const events = join(dir, 'events.ndjson');
  const sim = spawnSync(binary, ['simulate', '--seed', '7', '--freelancers', '200', '--clients', '80', '--days', '21',
    '--out', events]);
  if (sim.status !== 0) throw new Error(`simulate failed: ${sim.stderr}`);
  const smtpPort = await freePort();
  const sink = spawn(PYTHON, [join(source, 'tests/smtp_sink.py'), '--listen', `127.0.0.1:${smtpPort}`, '--maildir',
    join(dir, 'maildir')], { stdio: 'ignore' });
  children.push(sink);
  const config = join(dir, 'policy.toml');
  writeFileSync(config, `${readFileSync(join(source, 'examples/policy.toml'), 'utf8')}
[mail]
from = "Marketplace Reminders <reminders@marketplace.example>"
inbound_domain = "reply.marketplace.example"
public_url = "https://ghostwatch.marketplace.example"
secret_env = "GHOSTWATCH_E2E_MAIL_KEY"
templates = "${join(source, 'templates')}"
client_checkin = "escalation-checkin"

[smtp]
url = "smtp://127.0.0.1:${smtpPort}"
per_domain_per_minute = 1000000
`);
  writeFileSync(join(dir, 'tokens'), `write ${WRITE_TOKEN}\nread ${READ_TOKEN}\n`);
  const serve = await startServe(config, 'data');
  const base = serve.url;
  const ingest = await call(base, '/v1/events', { method: 'POST', body: readFileSync(events), type: 'application/x-ndjson' });
  await call(base, `/v1/advance?to=${DATA_END}`, { method: 'POST', body: '', type: 'text/plain' });
  // Every escalation sent opens (or joins) its contract's case: wait for all.
  const escalations = await call(base, '/v1/decisions?action=escalate&status=sent&limit=1000', { token: READ_TOKEN });
  const contracts = new Set(escalations.items.map((d) => d.contract));
  if (contracts.size === 0) throw new Error('the simulated marketplace has no escalation');
  const cases = await until(`${contracts.size} cases to open`, async () => {
    const page = await call(base, '/v1/cases?limit=1000', { token: READ_TOKEN });
    return page.items.length === contracts.size && page.items;
  });
  await until('some e-mail delivered', async () => (await call(base, '/v1/outbox?state=sent&limit=1')).items.length > 0);
  // The freelancer of the first case answers a reminder by e-mail: a reply
  // to its Reply-To token address, with the reminder quoted below.
  const first = cases[0];
  const sentEntry = await until('a reminder of the first case delivered', async () =>
    (await call(base, `/v1/cases/${first.id}`)).timeline.find((e) => e.kind === 'email_sent'));
  const messageId = sentEntry.text;
  const maildir = join(dir, 'maildir', 'new');
  const reminder = readdirSync(maildir)
    .map((f) => readFileSync(join(maildir, f), 'latin1'))
    .find((m) => m.toLowerCase().includes(`message-id: <${messageId.toLowerCase()}>`));
  const replyTo = /reply\+[^\s<>"]+@[^\s<>"]+/i.exec(reminder ?? '')?.[0];
  if (!replyTo) throw new Error(`no Reply-To token in the reminder ${messageId}`);
  const freelancerEmail = (await call(base, `/v1/users/${first.freelancer}`)).email;
  const visibleReply = 'Sorry for the silence, the draft comes tonight.';
  const inbound = await call(base, '/v1/inbound', {
    method: 'POST',
    type: 'message/rfc822',
    body: [
      `From: ${freelancerEmail}`,
      `To: ${replyTo}`,
      'Subject: Re: your client is waiting',
      `In-Reply-To: <${messageId}>`,
      'Message-ID: <e2e-reply-1@example.org>',
      'Date: Wed, 21 Aug 2019 10:00:00 +0000',
      'Content-Type: text/plain; charset=utf-8',
      '',
      visibleReply,
      '',
      'On Tue, Aug 20, 2019 at 9:00 AM Marketplace Reminders <reminders@marketplace.example> wrote:',
      '> Your client is waiting for your answer.',
      '',
    ].join('\r\n'),
  });
  check(inbound.route === 'case' && inbound.case === first.id, `inbound: the reply joins case ${first.id} (API)`);
  console.log(`setup: ${ingest.accepted} events, ${cases.length} cases, ${Date.now() - started} ms`);
  const overviewApi = await call(base, '/v1/overview', { token: READ_TOKEN });

  // The browser, failing on every console error, page error and failed request.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  };
  const page = await context.newPage();
  watch(page);
  const shot = async (p, name, fullPage = true) => p.screenshot({ path: join(out, `${name}.png`), fullPage });

  // Sign in: the form, a wrong token refused, the right one accepted.
  await page.goto(`${base}/`);
  await page.waitForSelector('h1:text("Sign in")');
  check((await page.evaluate(() => document.activeElement?.id)) === 'token', 'sign-in: the token field has the focus');
  await shot(page, '01-sign-in');
  await page.fill('#token', 'not-a-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.sign-in .error:not([hidden])');
  check((await page.textContent('.sign-in .error')).includes('not valid'), 'sign-in: a wrong token is refused');
  problems.splice(0, problems.length); // the refused token's 401 was the point of that step
  await page.fill('#token', WRITE_TOKEN);
  await page.fill('#name', 'Erin E2E');
  await page.click('button[type=submit]');

  // Overview.
  await page.waitForSelector('h1:text("Overview")');
  await page.waitForSelector('.chart canvas');
  const openShown = await page.textContent('.stat:has(.stat-label:text("open episodes")) .stat-value');
  check(openShown === overviewApi.open_episodes.toLocaleString('en-US'), `overview: open episodes ${openShown} as the API says`);
  check((await page.locator('.bars dt').count()) === overviewApi.open_by_age.length, 'overview: one bar per waiting band');
  check(await page.locator('caption:text("Cases by status")').isVisible(), 'overview: cases by status');
  await shot(page, '02-overview');
  await page.click('button:text("Refresh")');
  await page.waitForSelector('.chart canvas');
  check(await page.locator('h1:text("Overview")').isVisible(), 'overview: Refresh loads it again');

  // At risk, then filtered to the control arm.
  await page.click('nav a:text("At risk")');
  await page.waitForSelector('h1:text("At risk")');
  const atRiskRows = await page.locator('table.risk tbody tr').count();
  check(atRiskRows > 0, `at risk: ${atRiskRows} open episodes listed`);
  const waits = await page.locator('table.risk tbody tr td:first-child').allTextContents();
  check(waits[0] !== undefined, `at risk: the longest waiting first (${waits[0]})`);
  check((await page.locator('table.risk th:text-is("risk")').count()) === 0 && (await page.locator('#f-sort').count()) === 0,
    'at risk: without a risk model, no risk column and no sort by risk');
  await shot(page, '03-at-risk', false); // a long table: its first screen
  await page.selectOption('#f-arm', 'control');
  await page.waitForURL(/arm=control/);
  await page.waitForSelector('table.risk');
  const arms = await page.locator('table.risk tbody tr .badge.control, table.risk tbody tr .badge.treatment').allTextContents();
  check(arms.length > 0 && arms.every((a) => a === 'control'), `at risk: the arm filter shows control only (${arms.length})`);

  // Cases: the queue, assignment, a case worked.
  await page.click('nav a:text("Cases")');
  await page.waitForSelector('h1:text("Cases")');
  check((await page.locator('table.cases tbody tr').count()) === Math.min(50, cases.length), 'cases: the queue lists the cases');
  await page.locator('table.cases tbody tr').first().locator('button:text("Assign to me")').click();
  await page.waitForSelector('table.cases tbody tr:first-child td:text("Erin E2E")');
  check((await call(base, `/v1/cases/${first.id}`)).assignee === 'Erin E2E', 'cases: "Assign to me" assigns through the API');
  await shot(page, '04-cases', false);

  await page.click(`a:text("Case ${first.id}")`);
  await page.waitForSelector(`h1:text("Case ${first.id}")`);
  const timeline = await page.locator('.timeline li strong').allTextContents();
  check(timeline.includes('Client message left unanswered'), 'case: the timeline shows the client message');
  check(timeline.includes('Escalated to the team'), 'case: the timeline shows the escalation');
  check(timeline.some((t) => t === 'Step decided'), 'case: the timeline shows the nudges decided');
  check(timeline.includes('E-mail received'), 'case: the timeline shows the freelancer\'s e-mail');
  const quoted = await page.locator('.timeline li.tl-email_in blockquote').allTextContents();
  check(quoted.length === 1 && quoted[0] === visibleReply, `case: the reply's visible text, without the quoted reminder (${quoted})`);
  await page.selectOption('#f-status', 'pending');
  await page.selectOption('#f-outcome', 'freelancer_replaced');
  await page.click('button:text("Save changes")');
  await page.waitForSelector('h1 .badge:text("pending")');
  const note = 'Called the client <b>& found</b> a new freelancer';
  await page.fill('#f-note', note);
  await page.click('button:text("Add note")');
  await page.waitForSelector('.timeline blockquote:has-text("Called the client")');
  check((await page.locator('.timeline blockquote', { hasText: 'Called the client' }).textContent()) === note,
    'case: the note shows as text, markup escaped');
  check((await page.locator('.timeline b').count()) === 0, 'case: no markup from data in the page');
  const worked = await call(base, `/v1/cases/${first.id}`);
  check(worked.status === 'pending' && worked.outcome === 'freelancer_replaced', 'case: status and outcome saved (API)');
  const noteEntry = worked.timeline.find((e) => e.kind === 'note');
  check(noteEntry?.text === note && noteEntry?.author === 'Erin E2E', 'case: the note and its author saved (API)');
  check(worked.timeline.some((e) => e.kind === 'status' && e.author === 'Erin E2E'), 'case: the change signed by the user (API)');
  await shot(page, '05-case');

  // Experiment and campaign.
  await page.click('nav a:text("Experiment")');
  await page.waitForSelector('h1:text("Experiment")');
  await page.waitForSelector('.chart canvas');
  const experimentApi = await call(base, '/v1/experiment', { token: READ_TOKEN });
  check((await page.locator('.verdicts li').count()) === experimentApi.verdicts.length, 'experiment: one verdict per metric');
  check((await page.textContent('.verdicts li')) === experimentApi.verdicts[0].text, 'experiment: the verdicts are the report\'s');
  await shot(page, '06-experiment');
  await page.click('nav a:text("Campaign")');
  await page.waitForSelector('h1:text("Campaign anti-ghosting")');
  check((await page.locator('tbody tr').count()) === 3, 'campaign: the ladder has its three steps');
  check((await page.textContent('.prose')).includes('22:00 and 08:00'), 'campaign: quiet hours in words');
  await shot(page, '07-campaign');

  // Keyboard: the skip link is the first stop, and the nav is reachable.
  await page.keyboard.press('Tab');
  const firstFocus = await page.evaluate(() => document.activeElement?.textContent);
  check(firstFocus === 'Skip to content', 'keyboard: the skip link comes first');

  // A phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  const phonePage = await phone.newPage();
  watch(phonePage);
  await phonePage.goto(`${base}/`);
  await phonePage.fill('#token', READ_TOKEN);
  await phonePage.click('button[type=submit]');
  await phonePage.waitForSelector('.chart canvas');
  const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `phone: no sideways scrolling of the page (${overflow} px)`);
  await shot(phonePage, '08-phone-overview');
  await phonePage.goto(`${base}/#/cases/${first.id}`);
  await phonePage.waitForSelector(`h1:text("Case ${first.id}")`);
  await shot(phonePage, '09-phone-case');

  await checkRiskColumn(browser, watch, shot, events);

  await browser.close();
  check(problems.length === 0, `no console errors or failed requests${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`);
  console.log(`${failures === 0 ? 'PASSED' : `${failures} FAILED`} in ${Date.now() - started} ms; screenshots in ${out}`);
}

// With a risk model: a model trained on the marketplace's first two weeks,
// a second serve (its own data directory) scoring every episode, and the
// At risk page showing each episode's risk and sorting by it.
async function checkRiskColumn(browser, watch, shot, events) {
  const model = join(dir, 'model.json');
  const train = spawnSync(binary, ['train', '--events', events, '--label', 'unanswered72h', '--test-from',
    '2019-08-14T00:00:00Z', '--rounds', '30', '--out', model]);
  if (train.status !== 0) throw new Error(`train failed: ${train.stderr}`);
  const serve = await startServe(join(source, 'examples/policy.toml'), 'data-risk', ['--model', model]);
  const base = serve.url;
  await call(base, '/v1/events', { method: 'POST', body: readFileSync(events), type: 'application/x-ndjson' });
  await call(base, `/v1/advance?to=${DATA_END}`, { method: 'POST', body: '', type: 'text/plain' });
  const byRiskApi = await call(base, '/v1/at-risk?sort=risk&limit=200', { token: READ_TOKEN });
  check(byRiskApi.items.length > 0 && byRiskApi.items.every((e) => typeof e.risk === 'number'),
    `risk: every open episode scored (API, ${byRiskApi.items.length})`);

  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${base}/`);
  await page.fill('#token', READ_TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:text("Overview")');
  await page.click('nav a:text("At risk")');
  await page.waitForSelector('h1:text("At risk")');
  const headers = await page.locator('table.risk thead th').allTextContents();
  check(headers[1] === 'risk', `risk: the At risk table has a risk column (${headers.slice(0, 3)})`);
  const shownByWait = await page.locator('table.risk tbody tr td:nth-child(2)').allTextContents();
  check(shownByWait.length > 0 && shownByWait.every((t) => /^\d+\.\d\u00a0%$/.test(t)), `risk: each row shows its risk (${shownByWait[0]})`);
  await page.selectOption('#f-sort', 'risk');
  await page.waitForURL(/sort=risk/);
  await page.waitForSelector('.sub:text("riskiest first")');
  const shown = (await page.locator('table.risk tbody tr td:nth-child(2)').allTextContents()).map((t) => parseFloat(t));
  check(shown.length === byRiskApi.items.length && shown.every((r, i) => i === 0 || r <= shown[i - 1]),
    `risk: sorted by risk, riskiest first (${shown.slice(0, 3)} ... ${shown.at(-1)})`);
  const contracts = await page.locator('table.risk tbody tr td:nth-child(3)').allTextContents();
  check(contracts.every((c, i) => c === `${byRiskApi.items[i].contract} #${byRiskApi.items[i].episode}`),
    'risk: in the order the API gives');
  check(shown.every((r, i) => r === Number((byRiskApi.items[i].risk * 100).toFixed(1))), 'risk: the scores the API gives');
  await shot(page, '10-at-risk-by-risk', false);
  await context.close();
}

main()
  .catch((e) => {
    console.log(`FAIL ${e.stack ?? e}`);
    failures++;
  })
  .finally(() => {
    cleanup();
    process.exit(failures === 0 ? 0 : 1);
  });
