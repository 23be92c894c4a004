// Building the page: every text goes in as a Text node (textContent), never
// as markup, so nothing the API returns can become HTML or script.

export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

// h('a', {href: '#/cases'}, 'Cases'): an element with attributes (on* keys
// are listeners; false and undefined values are left out) and children.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

// Replaces what `parent` holds.
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

// A table with a header row; each row's cells are children.
export function table(caption: string, headers: string[], rows: Child[][], className = ''): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: className },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))),
    ),
  );
}

// A labelled <select>: options as [value, label].
export function select(
  label: string,
  name: string,
  options: [string, string][],
  value: string,
  onchange?: (value: string) => void,
): HTMLElement {
  const s = h('select', { name, id: `f-${name}` }, ...options.map(([v, l]) => h('option', { value: v }, l)));
  s.value = value;
  if (onchange) s.addEventListener('change', () => onchange(s.value));
  return h('label', { for: `f-${name}` }, h('span', {}, label), s);
}

// A big number with its label.
export function stat(label: string, value: Child, note?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label),
    note ? h('div', { class: 'stat-note' }, note) : null);
}
