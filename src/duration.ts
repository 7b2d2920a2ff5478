/** Parses "15m", "1h", "30s", "2d" or a number of seconds into seconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (match === null) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : 86400;
  return n * factor;
}
