// Numbers and times as people read them. Times are shown in UTC (the
// engine's time), with the freelancer's local time where it matters.

export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

export function pct(rate: number | null | undefined, digits = 1): string {
  return rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(digits)}\u00a0%`;
}

export function points(diff: number | null | undefined): string {
  return diff === null || diff === undefined ? '–' : `${diff >= 0 ? '+' : ''}${(diff * 100).toFixed(1)}`;
}

export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return '–';
  return p < 0.0001 ? '< 0.0001' : p.toFixed(4);
}

// "2019-09-30 14:05 UTC"
export function when(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '–';
  return `${rfc3339.slice(0, 10)} ${rfc3339.slice(11, 16)} UTC`;
}

// "3 d 4 h", "5 h", "40 min"
export function hours(h: number | null | undefined): string {
  if (h === null || h === undefined) return '–';
  if (h < 1) return `${Math.round(h * 60)} min`;
  if (h < 48) return `${Math.floor(h)} h`;
  const d = Math.floor(h / 24);
  return `${d} d ${Math.floor(h - d * 24)} h`;
}

export function words(name: string): string {
  return name.replace(/_/g, ' ');
}
