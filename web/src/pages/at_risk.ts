// At risk: open episodes, longest waiting first, with the freelancer's
// local time (and whether quiet hours hold the next step back) and the next
// step due; filters by country, team and arm kept in the URL.
import { api, AtRisk } from '../api';
import { h, select, table } from '../dom';
import { hours, num, when } from '../format';

export async function renderAtRisk(page: HTMLElement, _arg: string, query: URLSearchParams): Promise<void> {
  const filters = new URLSearchParams();
  for (const key of ['country', 'team', 'arm']) {
    const v = query.get(key);
    if (v) filters.set(key, v);
  }
  filters.set('limit', '200');
  const data = await api<AtRisk>(`/v1/at-risk?${filters}`);
  const go = (key: string) => (value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    location.hash = `#/at-risk?${next}`;
  };
  const any: [string, string][] = [['', 'any']];
  page.append(
    h('h1', {}, 'At risk'),
    h('p', { class: 'sub' }, `Open episodes, longest waiting first · now ${when(data.now)}`),
    h(
      'form',
      { class: 'filters', 'aria-label': 'Filters', onsubmit: (e: Event) => e.preventDefault() },
      select('Country', 'country', any.concat(data.countries.map((c) => [c, c])), query.get('country') ?? '', go('country')),
      select('Team', 'team', any.concat(data.teams.map((t) => [t, t])), query.get('team') ?? '', go('team')),
      select('Arm', 'arm', any.concat([['treatment', 'treatment'], ['control', 'control']]), query.get('arm') ?? '', go('arm')),
    ),
  );
  const shown = data.items.length;
  page.append(
    table(
      `${num(data.total)} open episodes${shown < data.total ? `, the ${shown} waiting longest shown` : ''}`,
      ['waiting', 'contract', 'freelancer', 'country', 'local time', 'arm', 'steps sent', 'next step', 'due'],
      data.items.map((e) => [
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
      ]),
      'risk',
    ),
  );
}
