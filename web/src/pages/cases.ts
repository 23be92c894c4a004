// Cases: the team queue, filtered by status, team and assignee (kept in the
// URL), with "Assign to me" on every unassigned case.
import { api, Case, Page, session } from '../api';
import { h, select, table } from '../dom';
import { num, when, words } from '../format';

const STATUSES: [string, string][] = [['', 'any'], ['new', 'new'], ['open', 'open'], ['pending', 'pending'], ['solved', 'solved']];

export async function renderCases(page: HTMLElement, _arg: string, query: URLSearchParams): Promise<void> {
  const filters = new URLSearchParams();
  for (const key of ['status', 'team', 'assignee', 'after']) {
    const v = query.get(key);
    if (v) filters.set(key, v);
  }
  filters.set('limit', '50');
  const data = await api<Page<Case>>(`/v1/cases?${filters}`);
  const go = (key: string) => (value: string) => {
    const next = new URLSearchParams(query);
    next.delete('after');
    if (value) next.set(key, value);
    else next.delete(key);
    location.hash = `#/cases?${next}`;
  };
  const me = session.name();
  const assignee = h('input', { id: 'f-assignee', name: 'assignee', type: 'search', value: query.get('assignee') ?? '' });
  const teamBox = h('input', { id: 'f-team', name: 'team', type: 'search', value: query.get('team') ?? '' });
  const filterForm = h(
    'form',
    { class: 'filters', 'aria-label': 'Filters' },
    select('Status', 'status', STATUSES, query.get('status') ?? '', go('status')),
    h('label', { for: 'f-team' }, h('span', {}, 'Team'), teamBox),
    h('label', { for: 'f-assignee' }, h('span', {}, 'Assignee'), assignee),
    h('button', { type: 'submit' }, 'Filter'),
    me ? h('button', { type: 'button', class: 'secondary', onclick: () => go('assignee')(me) }, 'Mine') : null,
  );
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams(query);
    next.delete('after');
    for (const [k, el] of [['team', teamBox], ['assignee', assignee]] as const) {
      if (el.value.trim()) next.set(k, el.value.trim());
      else next.delete(k);
    }
    location.hash = `#/cases?${next}`;
  });

  const assign = (c: Case, button: HTMLButtonElement) => {
    button.disabled = true;
    api<Case>(`/v1/cases/${c.id}`, 'PATCH', { assignee: me, author: me })
      .then(() => window.dispatchEvent(new HashChangeEvent('hashchange')))
      .catch((e: unknown) => {
        button.disabled = false;
        button.textContent = `Failed: ${String(e)}`;
      });
  };

  page.append(h('h1', {}, 'Cases'), filterForm);
  page.append(
    table(
      `${num(data.items.length)} cases${data.next_after !== null ? ' (more on the next page)' : ''}`,
      ['case', 'status', 'outcome', 'team', 'contract', 'assignee', 'opened', 'updated'],
      data.items.map((c) => [
        h('a', { href: `#/cases/${c.id}` }, `Case ${c.id}`),
        h('span', { class: `badge status-${c.status}` }, c.status),
        c.outcome ? words(c.outcome) : '–',
        c.team,
        c.contract || '–',
        c.assignee ??
          (me
            ? h('button', { type: 'button', class: 'small', onclick: (e: Event) => assign(c, e.currentTarget as HTMLButtonElement) }, 'Assign to me')
            : 'nobody'),
        when(c.opened_at),
        when(c.updated_at),
      ]),
      'cases',
    ),
  );
  if (data.next_after !== null) {
    const next = new URLSearchParams(query);
    next.set('after', String(data.next_after));
    page.append(h('p', {}, h('a', { href: `#/cases?${next}`, class: 'button' }, 'Next page')));
  }
}
