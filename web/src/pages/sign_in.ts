// Sign-in: an API token (read or write scope) checked against the server,
// kept in sessionStorage for this tab only, and the name that notes and
// changes are signed with.
import { api, ApiError, session } from '../api';
import { h } from '../dom';

export async function renderSignIn(page: HTMLElement, next: string): Promise<void> {
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const name = h('input', { id: 'name', name: 'name', type: 'text', autocomplete: 'name', value: session.name() });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card sign-in' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Use an API token of this ghostwatch service (read scope to look, write scope to work cases).'),
    h('label', { for: 'token' }, h('span', {}, 'API token'), token),
    h('label', { for: 'name' }, h('span', {}, 'Your name (signs your notes and changes)'), name),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.hidden = true;
    api('/v1/campaign', 'GET', undefined, token.value)
      .then(() => {
        session.signIn(token.value, name.value.trim());
        location.hash = next.startsWith('#/') && !next.startsWith('#/sign-in') ? next : '#/overview';
      })
      .catch((e: unknown) => {
        error.textContent =
          e instanceof ApiError && e.status === 401 ? 'That token is not valid here.' : `Cannot sign in: ${String(e)}`;
        error.hidden = false;
      });
  });
  page.appendChild(form);
  requestAnimationFrame(() => token.focus());
}
