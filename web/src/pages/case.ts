// A case: who and what, its timeline with the contract's story around it
// (the client messages that went unanswered and the freelancer's replies,
// from the contract's episodes) and the actions: status, outcome, assignee,
// a note. Each action is a request, then the page shows the case again as
// the server has it.
import { api, Case, CaseDetail, CaseEntry, Contract, session, User } from '../api';
import { h, select } from '../dom';
import { when, words } from '../format';

const STATUSES: [string, string][] = ['new', 'open', 'pending', 'solved'].map((s) => [s, s]);
const OUTCOMES: [string, string][] = [
  ['', 'not set'],
  ...['freelancer_responded', 'freelancer_replaced', 'client_withdrew', 'no_action'].map((o): [string, string] => [o, words(o)]),
];

// Timeline kinds whose text the system wrote (a step, a Message-ID, a new
// value): shown as a line. Any other text (notes, and replies received when
// the server records their visible text) is what a person wrote, quoted.
const SYSTEM_TEXT = new Set(['decision', 'email_sent', 'escalated', 'status', 'outcome', 'assignee', 'contract_ended']);

interface Line {
  at: string;
  kind: string;
  title: string;
  episode?: number;
  author?: string;
  text?: string;
}

function entryLine(e: CaseEntry): Line {
  const titles: Record<string, string> = {
    decision: 'Step decided',
    email_sent: 'E-mail delivered',
    escalated: 'Escalated to the team',
    status: 'Status changed',
    outcome: 'Outcome set',
    assignee: 'Assigned',
    note: 'Note',
    email_in: 'E-mail received',
    auto_reply: 'Automatic reply received',
  };
  return { at: e.at, kind: e.kind, title: titles[e.kind] ?? words(e.kind), episode: e.episode, author: e.author, text: e.text };
}

function story(contract: Contract, episodes: Set<number>): Line[] {
  const out: Line[] = [];
  for (const e of contract.episodes) {
    if (!episodes.has(e.episode)) continue;
    out.push({ at: e.opened_at, kind: 'client_message', title: 'Client message left unanswered', episode: e.episode });
    if (e.outcome === 'replied' && e.closed_at) {
      out.push({ at: e.closed_at, kind: 'reply', title: 'Freelancer replied', episode: e.episode });
    } else if (e.outcome === 'contract_ended' && e.closed_at) {
      out.push({ at: e.closed_at, kind: 'contract_ended', title: 'Contract ended', episode: e.episode, text: e.reason ?? undefined });
    }
  }
  return out;
}

function person(label: string, id: string, user: User | null): HTMLElement {
  const details = user ? [user.name, user.country, user.tz].filter(Boolean).join(' · ') : '';
  return h('div', {}, h('dt', {}, label), h('dd', {}, id, details ? h('span', { class: 'muted' }, ` (${details})`) : null));
}

export async function renderCase(page: HTMLElement, id: string, _query: URLSearchParams): Promise<void> {
  const c = await api<CaseDetail>(`/v1/cases/${encodeURIComponent(id)}`);
  const enc = encodeURIComponent;
  const user = (id: string) => (id ? api<User>(`/v1/users/${enc(id)}`).catch(() => null) : Promise.resolve(null));
  const [contract, freelancer, client] = await Promise.all([
    // A case may be about no contract (an e-mail from a freelancer with no open episode).
    c.contract ? api<Contract>(`/v1/contracts/${enc(c.contract)}`).catch(() => null) : Promise.resolve(null),
    user(c.freelancer),
    user(c.client),
  ]);
  const linked = new Set<number>([c.episode, ...c.timeline.map((e) => e.episode ?? 0).filter((n) => n > 0)]);
  const lines = [...(contract ? story(contract, linked) : []), ...c.timeline.map(entryLine)].sort((a, b) =>
    a.at < b.at ? -1 : a.at > b.at ? 1 : 0,
  );

  const me = session.name();
  const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const message = h('p', { class: 'form-message', role: 'status' });
  const fail = (e: unknown) => {
    message.textContent = `Not saved: ${String(e instanceof Error ? e.message : e)}`;
    message.className = 'form-message error';
  };

  const statusSel = select('Status', 'status', STATUSES, c.status);
  const outcomeSel = select('Outcome', 'outcome', OUTCOMES, c.outcome ?? '');
  const assigneeBox = h('input', { id: 'f-assignee', name: 'assignee', type: 'text', value: c.assignee ?? '' });
  const changeForm = h(
    'form',
    { class: 'card actions', 'aria-label': 'Change the case' },
    h('h2', {}, 'Work the case'),
    statusSel,
    outcomeSel,
    h('label', { for: 'f-assignee' }, h('span', {}, 'Assignee'), assigneeBox),
    h('button', { type: 'submit' }, 'Save changes'),
  );
  changeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, string> = { author: me };
    const status = (statusSel.querySelector('select') as HTMLSelectElement).value;
    const outcome = (outcomeSel.querySelector('select') as HTMLSelectElement).value;
    if (status !== c.status) body.status = status;
    if (outcome && outcome !== (c.outcome ?? '')) body.outcome = outcome;
    if (assigneeBox.value.trim() !== (c.assignee ?? '')) body.assignee = assigneeBox.value.trim();
    api<Case>(`/v1/cases/${c.id}`, 'PATCH', body).then(reload, fail);
  });

  const noteBox = h('textarea', { id: 'f-note', name: 'note', rows: 3, required: true });
  const noteForm = h(
    'form',
    { class: 'card actions', 'aria-label': 'Add a note' },
    h('h2', {}, 'Add a note'),
    h('label', { for: 'f-note' }, h('span', {}, 'Note'), noteBox),
    h('button', { type: 'submit' }, 'Add note'),
  );
  noteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!noteBox.value.trim()) return;
    api<Case>(`/v1/cases/${c.id}/notes`, 'POST', { text: noteBox.value, author: me }).then(reload, fail);
  });

  page.append(
    h('p', {}, h('a', { href: '#/cases' }, '← All cases')),
    h('h1', {}, `Case ${c.id} `, h('span', { class: `badge status-${c.status}` }, c.status)),
    h(
      'dl',
      { class: 'card facts' },
      h('div', {}, h('dt', {}, 'Team'), h('dd', {}, c.team)),
      h('div', {}, h('dt', {}, 'Contract'), h('dd', {}, c.contract ? `${c.contract} (episode ${c.episode})` : 'none')),
      person('Freelancer', c.freelancer, freelancer),
      c.client ? person('Client', c.client, client) : null,
      h('div', {}, h('dt', {}, 'Outcome'), h('dd', {}, c.outcome ? words(c.outcome) : 'not set')),
      h('div', {}, h('dt', {}, 'Assignee'), h('dd', {}, c.assignee ?? 'nobody')),
      h('div', {}, h('dt', {}, 'Opened'), h('dd', {}, when(c.opened_at))),
      h('div', {}, h('dt', {}, 'Updated'), h('dd', {}, when(c.updated_at))),
    ),
    h(
      'div',
      { class: 'case-grid' },
      h(
        'section',
        { class: 'card', 'aria-label': 'Timeline' },
        h('h2', {}, 'Timeline'),
        h(
          'ol',
          { class: 'timeline' },
          ...lines.map((l) =>
            h(
              'li',
              { class: `tl-${l.kind}` },
              h('time', { datetime: l.at }, when(l.at)),
              h('div', {}, h('strong', {}, l.title), l.episode ? h('span', { class: 'muted' }, ` · episode ${l.episode}`) : null,
                l.author ? h('span', { class: 'muted' }, ` · by ${l.author}`) : null),
              // What people wrote stands out; the system's own texts are a line.
              l.text && !SYSTEM_TEXT.has(l.kind) ? h('blockquote', {}, l.text) : null,
              l.text && SYSTEM_TEXT.has(l.kind) ? h('div', { class: 'muted tl-text' }, words(l.text)) : null,
            ),
          ),
        ),
      ),
      h('div', {}, changeForm, noteForm, message),
    ),
  );
}
