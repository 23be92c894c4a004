// Experiment: the experiment report (docs/report.md) of the running
// campaign, computed by the server from live data on every visit: verdicts,
// the sample-ratio check, the metrics with their confidence intervals, time
// to reply (Kaplan-Meier), cost and what became of the cases.
import { api, ArmName, Experiment } from '../api';
import { COLORS, forestPlot, lineChart } from '../charts';
import { h, stat, table } from '../dom';
import { hours, num, pct, points, pValue, when, words } from '../format';

const METRIC_NAMES: Record<string, string> = {
  reply_24h: 'reply within 24 h',
  reply_48h: 'reply within 48 h',
  reply_72h: 'reply within 72 h',
  bad_outcome: 'contract cancelled or freelancer replaced',
};

// The step curve's points on a common x grid, for one chart.
function curveGrid(curves: Record<ArmName, [number, number][]>): { x: number[]; t: (number | null)[]; c: (number | null)[] } {
  const xs = Array.from(new Set([0, ...curves.treatment.map((p) => p[0]), ...curves.control.map((p) => p[0])]))
    .filter((x) => x <= 24 * 14)
    .sort((a, b) => a - b);
  const at = (pts: [number, number][], x: number) => {
    let s = 1;
    for (const [t, v] of pts) {
      if (t > x) break;
      s = v;
    }
    return s;
  };
  return { x: xs, t: xs.map((x) => at(curves.treatment, x)), c: xs.map((x) => at(curves.control, x)) };
}

export async function renderExperiment(page: HTMLElement): Promise<void> {
  const r = await api<Experiment>('/v1/experiment');
  const p = r.population;
  page.append(
    h('h1', {}, `Experiment: ${r.campaign}`),
    h('p', { class: 'sub' }, `Live data through ${when(r.data_end)} · ${r.holdout_percent} % holdout · refreshed on every visit`),
  );
  if (r.srm_alarm) {
    page.append(
      h(
        'div',
        { class: 'alarm', role: 'alert' },
        h('strong', {}, 'Sample ratio mismatch. '),
        `${num(r.srm.treatment)} treatment and ${num(r.srm.control)} control freelancers, expected ${r.srm.expected_treatment.toFixed(1)} and ${r.srm.expected_control.toFixed(1)} (p = ${pValue(r.srm.p_value)}). Do not trust the comparisons below until the cause is found.`,
      ),
    );
  }
  page.append(
    h('section', { class: 'card verdicts' }, h('h2', {}, 'Verdicts'), h('ul', {}, ...r.verdicts.map((v) => h('li', {}, v.text)))),
    h(
      'section',
      { class: 'stats', 'aria-label': 'Population' },
      stat('treatment episodes', num(p.treatment.episodes), `${num(p.treatment.freelancers)} freelancers`),
      stat('control episodes', num(p.control.episodes), `${num(p.control.freelancers)} freelancers`),
      stat('median time to reply', hours(r.survival.treatment.median_hours), `control ${hours(r.survival.control.median_hours)}`),
      stat('sample ratio check', `p = ${pValue(r.srm.p_value)}`, r.srm_alarm ? 'MISMATCH' : 'arms as assigned'),
    ),
  );
  const grid = curveGrid(r.km_curves);
  page.append(
    h(
      'div',
      { class: 'grid' },
      lineChart(
        'Still waiting for a reply, by hours since the first step (Kaplan–Meier)',
        grid.x,
        [
          { label: 'treatment', values: grid.t, color: COLORS.treatment },
          { label: 'control', values: grid.c, color: COLORS.control },
        ],
        {
          time: false,
          stepped: true,
          xLabel: 'hours since the first step',
          yLabel: 'share waiting',
          yMax: 1,
          summary: `Median time to reply: treatment ${hours(r.survival.treatment.median_hours)}, control ${hours(r.survival.control.median_hours)}; log-rank p = ${pValue(r.survival.logrank.p_value)}.`,
        },
      ),
      forestPlot(
        'Treatment minus control, percentage points (95 % CI)',
        Object.entries(r.metrics).map(([name, m]) => ({
          label: METRIC_NAMES[name] ?? words(name),
          diff: m.diff,
          low: m.ci_low,
          high: m.ci_high,
        })),
        points,
      ),
    ),
  );
  page.append(
    h(
      'div',
      { class: 'grid' },
      table(
        'Outcomes by arm (difference in percentage points, 95 % CI, clustered by freelancer)',
        ['metric', 'treatment', 'control', 'difference', '95 % CI', 'p'],
        Object.entries(r.metrics).map(([name, m]) => [
          METRIC_NAMES[name] ?? words(name),
          pct(m.treatment),
          pct(m.control),
          points(m.diff),
          m.ci_low === null ? '–' : `${points(m.ci_low)} to ${points(m.ci_high)}`,
          pValue(m.p_value),
        ]),
        'numeric',
      ),
    ),
  );
  const arms = ['treatment', 'control'] as const;
  page.append(
    h(
      'div',
      { class: 'grid' },
      table(
        'Cost',
        ['arm', 'nudges sent', 'escalated episodes', 'escalation rate'],
        arms.map((a) => [a, num(r.cost[a].nudges_sent), num(r.cost[a].escalated_episodes), pct(r.cost[a].escalation_rate)]),
        'numeric',
      ),
      r.cases
        ? table(
            'What the team made of the escalations',
            ['arm', 'episodes with a case', 'outcomes', 'statuses'],
            arms.map((a) => {
              const c = r.cases![a];
              const fmt = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${words(k)} ${n}`).join(', ') || '–';
              return [a, num(c.episodes_with_case), fmt(c.by_outcome), fmt(c.by_status)];
            }),
          )
        : null,
    ),
  );
}
