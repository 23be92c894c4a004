// The API client: JSON over fetch with the signed-in token as a bearer
// header. No cookie is ever used (credentials: 'omit'), so another site
// cannot make the browser send an authenticated request: a cross-site page
// can neither read the token (sessionStorage is per origin) nor set an
// Authorization header without a CORS preflight, which the server never
// grants. That is the CSRF protection of the state-changing requests.

const TOKEN_KEY = 'ghostwatch.token';
const NAME_KEY = 'ghostwatch.name';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  name: (): string => sessionStorage.getItem(NAME_KEY) ?? '',
  signIn(token: string, name: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(NAME_KEY, name);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(NAME_KEY);
  },
};

// Called on a 401: the token is gone or wrong.
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function api<T>(path: string, method = 'GET', body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, 'bad_response', `${method} ${path}: the answer is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

// ---- What the routes answer (docs/api.md) ----

export type ArmName = 'treatment' | 'control';
export type StatusCounts = Record<'sent' | 'held_out' | 'suppressed' | 'skipped', number>;
export type ArmDecisions = Record<'nudge' | 'escalate', StatusCounts>;
export interface Replies {
  closed: number;
  replied: number;
  rate: number | null;
}

export interface Overview {
  now: string | null;
  clock: 'wall' | 'events';
  campaign: string;
  today: string | null;
  week_start: string | null;
  events_accepted: number;
  contracts: number;
  open_episodes: number;
  timer_lag_seconds: number;
  outbox_depth: number;
  open_by_age: { from_hours: number; to_hours: number | null; treatment: number; control: number }[];
  decisions_today: Record<ArmName, ArmDecisions>;
  decisions_week: Record<ArmName, ArmDecisions>;
  daily: { day: string; treatment: { nudge: number; escalate: number }; control: { nudge: number; escalate: number } }[];
  reply_rates: { week: Record<ArmName, Replies>; all: Record<ArmName, Replies> };
  cases: { by_status: Record<string, number>; unassigned: number };
}

export interface AtRiskItem {
  contract: string;
  episode: number;
  freelancer: string;
  client: string;
  arm: ArmName;
  in_segment: boolean;
  country: string | null;
  tz: string | null;
  local_time: string | null;
  in_quiet_hours: boolean;
  opened_at: string;
  waiting_hours: number | null;
  steps_decided: number;
  steps_sent: number;
  next_step: { step: number; action: string; target: string; due_at: string } | null;
  team: string | null;
  // Only with a risk model (serve --model): the score at opening; null for
  // an episode opened before the model came in.
  risk?: number | null;
}
export interface AtRisk {
  now: string | null;
  total: number;
  items: AtRiskItem[];
  countries: string[];
  teams: string[];
  // Only with a risk model: the order of the items.
  sort?: 'waiting' | 'risk';
}

export interface Case {
  id: number;
  team: string;
  contract: string;
  episode: number;
  freelancer: string;
  client: string;
  status: string;
  outcome: string | null;
  assignee: string | null;
  opened_at: string;
  updated_at: string;
}
export interface CaseEntry {
  at: string;
  kind: string;
  episode?: number;
  author?: string;
  text?: string;
}
export interface CaseDetail extends Case {
  timeline: CaseEntry[];
}
export interface Page<T> {
  items: T[];
  next_after: number | string | null;
}

export interface Episode {
  id: number | null;
  contract: string;
  episode: number;
  opened_at: string;
  closed_at: string | null;
  outcome: string;
  reason?: string | null;
}
export interface Contract {
  contract: string;
  client: string;
  freelancer: string;
  ended: boolean;
  episodes: Episode[];
}
export interface User {
  user: string;
  country: string | null;
  tz: string | null;
  arm: ArmName;
  name: string | null;
}

export interface Duration {
  text: string;
  hours: number;
}
export interface Campaign {
  name: string;
  start: string | null;
  end: string | null;
  holdout_percent: number;
  allowed_lateness: Duration;
  catch_up: Duration;
  segment: { countries_include: string[]; countries_exclude: string[]; kinds: string[] };
  limits: { max_nudges_per_day: number | null; quiet_hours: { start: string; end: string } | null };
  ladder: { step: number; after: Duration; action: 'nudge' | 'escalate'; template?: string; team?: string }[];
}

export interface Metric {
  treatment: number | null;
  control: number | null;
  diff: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  n_treatment: number;
  n_control: number;
}
export interface Curve {
  episodes: number;
  events: number;
  censored: number;
  median_hours: number | null;
}
export interface Experiment {
  campaign: string;
  holdout_percent: number;
  data_end: string | null;
  population: Record<ArmName, { episodes: number; freelancers: number }>;
  srm: { treatment: number; control: number; expected_treatment: number; expected_control: number; p_value: number | null };
  metrics: Record<string, Metric>;
  survival: Record<ArmName, Curve> & { logrank: { chi2: number | null; p_value: number | null } };
  cost: Record<ArmName, { nudges_sent: number; escalated_episodes: number; escalation_rate: number | null }>;
  cases?: Record<ArmName, { episodes_with_case: number; by_outcome: Record<string, number>; by_status: Record<string, number> }>;
  verdicts: { metric: string; text: string }[];
  srm_alarm: boolean;
  km_curves: Record<ArmName, [number, number][]>;
}
