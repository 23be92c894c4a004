// The dashboard's shell: sign-in, the navigation and a hash router
// (#/overview, #/at-risk, #/cases, #/cases/12, #/experiment, #/campaign), so
// the server serves one index.html and every link works on reload.
import './style.css';
import { ApiError, session, setUnauthorizedHandler } from './api';
import { h, replace } from './dom';
import { renderAtRisk } from './pages/at_risk';
import { renderCampaign } from './pages/campaign';
import { renderCase } from './pages/case';
import { renderCases } from './pages/cases';
import { renderExperiment } from './pages/experiment';
import { renderOverview } from './pages/overview';
import { renderSignIn } from './pages/sign_in';

type Page = (main: HTMLElement, arg: string, query: URLSearchParams) => Promise<void>;

const PAGES: { path: string; title: string; render: Page }[] = [
  { path: 'overview', title: 'Overview', render: renderOverview },
  { path: 'at-risk', title: 'At risk', render: renderAtRisk },
  { path: 'cases', title: 'Cases', render: renderCases },
  { path: 'experiment', title: 'Experiment', render: renderExperiment },
  { path: 'campaign', title: 'Campaign', render: renderCampaign },
];

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;

function signOut(): void {
  session.signOut();
  location.hash = '#/sign-in';
}

setUnauthorizedHandler(() => {
  session.signOut();
  if (!location.hash.startsWith('#/sign-in')) location.hash = `#/sign-in?next=${encodeURIComponent(location.hash)}`;
});

function drawNav(current: string): void {
  if (!session.token()) {
    replace(nav);
    replace(who);
    return;
  }
  replace(
    nav,
    h(
      'ul',
      {},
      ...PAGES.map((p) =>
        h('li', {}, h('a', { href: `#/${p.path}`, 'aria-current': p.path === current ? 'page' : undefined }, p.title)),
      ),
    ),
  );
  replace(
    who,
    h('button', { type: 'button', class: 'link', onclick: () => void route() }, 'Refresh'),
    ' · ',
    session.name() || 'signed in',
    ' ',
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  );
}

let generation = 0;

async function route(): Promise<void> {
  const run = ++generation;
  const [pathPart, queryPart = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [path, arg = ''] = pathPart.split('/');
  const query = new URLSearchParams(queryPart);
  if (!session.token() && path !== 'sign-in') {
    location.hash = `#/sign-in?next=${encodeURIComponent(location.hash || '#/overview')}`;
    return;
  }
  const page = path === 'sign-in' ? null : PAGES.find((p) => p.path === path);
  if (path !== 'sign-in' && !page) {
    location.hash = '#/overview';
    return;
  }
  drawNav(path);
  const title = page ? (arg ? `Case ${arg}` : page.title) : 'Sign in';
  document.title = `${title} · ghostwatch`;
  replace(main, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    const target = h('div', { class: 'page' });
    if (!page) await renderSignIn(target, query.get('next') ?? '#/overview');
    else if (path === 'cases' && arg) await renderCase(target, arg, query);
    else await page.render(target, arg, query);
    if (run !== generation) return; // another route started meanwhile
    replace(main, target);
    main.focus({ preventScroll: true });
  } catch (e) {
    if (run !== generation) return;
    const message = e instanceof ApiError ? `${e.message} (${e.code})` : String(e);
    replace(main, h('div', { class: 'error', role: 'alert' }, h('h1', {}, 'Something went wrong'), h('p', {}, message)));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
