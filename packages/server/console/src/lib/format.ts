/** Times and durations as operators read them: ISO-like UTC, and rounded spans. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(Math.round(seconds));
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  if (days > 0) return `${sign}${days} d ${hours} h`;
  if (hours > 0) return `${sign}${hours} h ${minutes} min`;
  if (minutes > 0) return `${sign}${minutes} min ${secs} s`;
  return `${sign}${secs} s`;
}

export const ageOf = (iso: string, now = Date.now()) => formatDuration((now - new Date(iso).getTime()) / 1000);

/** A value in a before/after view or a plan: strings as they are, the rest as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  if (typeof value === 'string') return value;
  // A list one entry a line, each entry compact: a diff of scope lists reads line by line.
  if (Array.isArray(value)) return value.length === 0 ? '[]' : value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join('\n');
  return JSON.stringify(value, null, 2);
}

export const splitScopes = (text: string) => [...new Set(text.split(/[\s,]+/).filter(Boolean))];
