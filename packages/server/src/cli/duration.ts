import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `90s`, `30m`, `12h`, `90d` → seconds (commander reports a bad value, naming the option). */
export function parseDurationSeconds(name: string) {
  return (value: string): number => {
    const match = /^(\d+)([smhd]?)$/.exec(value.trim());
    if (!match) throw new InvalidArgumentError(`${name} must be a duration such as 3600, 30m, 12h or 90d.`);
    return Number(match[1]) * UNITS[match[2] || 's']!;
  };
}
