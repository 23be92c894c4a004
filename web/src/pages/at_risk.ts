// At risk: open episodes, longest waiting first (or, with a risk model,
// riskiest first), with the freelancer's local time (and whether quiet
// hours hold the next step back), the next step due and, with a model, the
// risk score; filters by country, team and arm, and the order, kept in the
// URL.
import { api, AtRisk } from '../api';
import { Child, h, select, table } from '../dom';
import { hours, num, pct, when } from '../format';

export async function renderAtRisk(page: HTMLElement, _arg: string, query: URLSearchParams): Promise<void> {
  const filters = new URLSearchParams();
  for (const key of ['country', 'team', 'arm', 'sort']) {
    const v = query.get(key);
    if (v) filters.set(key, v);
  }
  filters.set('limit', '200');
  const data = await api<AtRisk>(`/v1/at-risk?${filters}`);
  const scored = data.sort !== undefined;  // a risk model scores the episodes
  const byRisk = data.sort === 'risk';
  const go = (key: string) => (value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    location.hash = `#/at-risk?${next}`;
  };
  const any: [string, string][] = [['', 'any']];
  page.append(
    h('h1', {}, 'At risk'),
    h('p', { class: 'sub' }, `Open episodes, ${byRisk ? 'riskiest' : 'longest waiting'} first · now ${when(data.now)}`),
    h(
      'form',
      { class: 'filters', 'aria-label': 'Filters', onsubmit: (e: Event) => e.preventDefault() },
      select('Country', 'country', any.concat(data.countries.map((c) => [c, c])), query.get('country') ?? '', go('country')),
      select('Team', 'team', any.concat(data.teams.map((t) => [t, t])), query.get('team') ?? '', go('team')),
      select('Arm', 'arm', any.concat([['treatment', 'treatment'], ['control', 'control']]), query.get('arm') ?? '', go('arm')),
      scored ? select('Sort by', 'sort', [['', 'waiting time'], ['risk', 'risk']], byRisk ? 'risk' : '', go('sort')) : null,
    ),
  );
  const shown = data.items.length;
  const headers = ['waiting', 'contract', 'freelancer', 'country', 'local time', 'arm', 'steps sent', 'next step', 'due'];
  if (scored) headers.splice(1, 0, 'risk');
  page.append(
    table(
      `${num(data.total)} open episodes${shown < data.total ? `, the ${shown} ${byRisk ? 'riskiest' : 'waiting longest'} shown` : ''}`,
      headers,
      data.items.map((e) => {
        const row: Child[] = [
          h('strong', {}, hours(e.waiting_hours)),
          `${e.contract} #${e.episode}`,
          e.freelancer,
          e.country ?? '–',
          h('span', {}, e.local_time ?? '–', e.in_quiet_hours ? h('span', { class: 'badge quiet', title: 'quiet hours: steps wait' }, 'quiet') : null,
            h('span', { class: 'tz' }, e.tz ?? 'UTC')),
          h('span', { class: `badge ${e.arm}` }, e.arm),
          e.arm === 'control' ? `${e.steps_decided} held out` : String(e.steps_sent),
          e.next_step ? `${e.next_step.action} (${e.next_step.target})` : e.in_segment ? 'ladder done' : 'outside the segment',
          e.next_step ? when(e.next_step.due_at) : '–',
        ];
        if (scored) row.splice(1, 0, h('span', { class: 'risk', title: 'probability of no reply within 72 h, at opening' }, pct(e.risk)));
        return row;
      }),
      'risk',
    ),
  );
}
