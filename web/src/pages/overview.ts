// Overview: what the initiative is doing now. Open episodes by age (bands
// end at the ladder's steps), decisions today and this week per arm (the
// control arm's are held out: what it would have been sent), reply rates,
// the timer lag and the outbox depth, cases by status.
import { api, ArmDecisions, ArmName, Overview } from '../api';
import { barRows, COLORS, lineChart, paintSwatches } from '../charts';
import { h, stat, table } from '../dom';
import { num, pct, when } from '../format';

// Bands end at the ladder's steps, so they read in the policy's hours.
function band(from: number, to: number | null): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return to === null ? `${n(from)} h and more` : `${n(from)}–${n(to)} h`;
}

// The treatment arm's decisions sent; the control arm's held out (what it would have been sent).
function decisionsRow(arm: ArmName, d: ArmDecisions): (string | number)[] {
  const shown = arm === 'treatment' ? 'sent' : 'held_out';
  return [arm === 'treatment' ? 'treatment (sent)' : 'control (held out)', num(d.nudge[shown]), num(d.escalate[shown]),
    num(d.nudge.suppressed + d.escalate.suppressed)];
}

export async function renderOverview(page: HTMLElement): Promise<void> {
  const o = await api<Overview>('/v1/overview');
  const lag = o.timer_lag_seconds;
  page.append(
    h('h1', {}, 'Overview'),
    h('p', { class: 'sub' }, `Campaign ${o.campaign} · now ${when(o.now)} (${o.clock === 'wall' ? 'wall clock' : 'event time'})`),
    h(
      'section',
      { class: 'stats', 'aria-label': 'Key numbers' },
      stat('open episodes', num(o.open_episodes), 'client messages waiting for the freelancer'),
      stat('cases to work', num(o.cases.by_status.new + o.cases.by_status.open), `${num(o.cases.unassigned)} unassigned`),
      stat('reply rate this week', pct(o.reply_rates.week.treatment.rate), `control ${pct(o.reply_rates.week.control.rate)}`),
      stat('timer lag', lag < 1 ? 'none' : `${lag.toFixed(1)} s`, 'oldest due step behind the clock'),
      stat('outbox depth', num(o.outbox_depth), 'sends waiting for delivery'),
      stat('contracts', num(o.contracts), `${num(o.events_accepted)} events`),
    ),
  );

  const grid = h('div', { class: 'grid' });
  grid.append(
    barRows(
      'Open episodes by waiting time',
      o.open_by_age.map((b) => ({
        label: band(b.from_hours, b.to_hours),
        parts: [
          { name: 'treatment', value: b.treatment, color: COLORS.treatment },
          { name: 'control', value: b.control, color: COLORS.control },
        ],
      })),
    ),
    lineChart(
      'Decisions per day (last 14 days)',
      o.daily.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000),
      [
        { label: 'nudges sent (treatment)', values: o.daily.map((d) => d.treatment.nudge), color: COLORS.treatment },
        { label: 'nudges held out (control)', values: o.daily.map((d) => d.control.nudge), color: COLORS.control },
        { label: 'escalations (treatment)', values: o.daily.map((d) => d.treatment.escalate), color: COLORS.escalate, dash: [6, 4] },
      ],
      {
        time: true,
        yLabel: 'decisions',
        summary: `Over the last 14 days: ${o.daily.reduce((s, d) => s + d.treatment.nudge, 0)} nudges sent, ${o.daily.reduce((s, d) => s + d.treatment.escalate, 0)} escalations.`,
      },
    ),
  );
  page.append(grid);

  page.append(
    h(
      'div',
      { class: 'grid' },
      table(
        `Decisions today (${o.today ?? '–'})`,
        ['arm', 'nudges', 'escalations', 'suppressed'],
        [decisionsRow('treatment', o.decisions_today.treatment), decisionsRow('control', o.decisions_today.control)],
        'numeric',
      ),
      table(
        `Decisions this week (from ${o.week_start ?? '–'})`,
        ['arm', 'nudges', 'escalations', 'suppressed'],
        [decisionsRow('treatment', o.decisions_week.treatment), decisionsRow('control', o.decisions_week.control)],
        'numeric',
      ),
      table(
        'Reply rates of closed in-segment episodes',
        ['period', 'arm', 'closed', 'replied', 'rate'],
        (['week', 'all'] as const).flatMap((period) =>
          (['treatment', 'control'] as const).map((arm) => {
            const r = o.reply_rates[period][arm];
            return [period === 'week' ? 'this\u00a0week' : 'all\u00a0time', arm, num(r.closed), num(r.replied), pct(r.rate)];
          }),
        ),
        'numeric',
      ),
      table(
        'Cases by status',
        ['status', 'cases'],
        Object.entries(o.cases.by_status).map(([s, n]) => [h('a', { href: `#/cases?status=${s}` }, s), num(n)]),
        'numeric',
      ),
    ),
  );
  paintSwatches(page);
}
