// Campaign: the policy in force, in sentences: who is targeted, the holdout,
// the ladder of steps, quiet hours and caps.
import { api, Campaign } from '../api';
import { h, table } from '../dom';
import { when } from '../format';

function list(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export async function renderCampaign(page: HTMLElement): Promise<void> {
  const c = await api<Campaign>('/v1/campaign');
  const s = c.segment;
  const countries =
    s.countries_include.length > 0
      ? `in ${list(s.countries_include)}`
      : 'in every country';
  const except = s.countries_exclude.length > 0 ? ` except ${list(s.countries_exclude)}` : '';
  const kinds = s.kinds.length > 0 ? `, of kind ${list(s.kinds)}` : '';
  const q = c.limits.quiet_hours;
  page.append(
    h('h1', {}, `Campaign ${c.name}`),
    h(
      'section',
      { class: 'card prose' },
      h('h2', {}, 'Who'),
      h('p', {}, `Freelancers ${countries}${except}${kinds}.`),
      h(
        'p',
        {},
        `${c.holdout_percent} % of them are held out as the control arm: their steps are decided but nothing is sent, so the experiment can compare. The other ${100 - c.holdout_percent} % are the treatment arm.`,
      ),
      h('h2', {}, 'When'),
      h('p', {}, `Steps fire from ${c.start ? when(c.start) : 'the start'} ${c.end ? `until ${when(c.end)}` : 'with no end date'}.`),
      h('p', {}, `Events may arrive up to ${c.allowed_lateness.text} late; after an outage, steps overdue by more than ${c.catch_up.text} are caught up at once, the latest only.`),
      h('h2', {}, 'Limits'),
      h(
        'ul',
        {},
        h('li', {}, q ? `No step fires between ${q.start} and ${q.end} in the freelancer's local time; it waits until ${q.end}.` : 'No quiet hours.'),
        h('li', {}, c.limits.max_nudges_per_day ? `At most ${c.limits.max_nudges_per_day} nudges per freelancer in any 24 hours.` : 'No cap on nudges per day.'),
      ),
    ),
    table(
      'The ladder: what happens while a client message stays unanswered',
      ['step', 'after', 'action', 'what'],
      c.ladder.map((st) => [
        String(st.step),
        st.after.text,
        st.action === 'nudge' ? 'nudge the freelancer by e-mail' : 'escalate to a support team',
        st.action === 'nudge' ? `template ${st.template ?? ''}` : `team ${st.team ?? ''}`,
      ]),
    ),
  );
}
