// Pure formatting for the pages: rates, money, counts, moments. No React, no fetching.

/**
 * A share of `whole` as a fraction, or null when it is not a rate: nothing to divide by, or
 * a part larger than its whole (then the two do not count the same people, and a figure
 * above 100% would be a lie rather than a result).
 */
export function rate(part: number, whole: number): number | null {
  if (!Number.isFinite(part) || !Number.isFinite(whole) || whole <= 0 || part < 0) return null;
  if (part > whole) return null;
  return part / whole;
}

/** A fraction as a percentage with one decimal ("12.5%"), or an em dash when there is none. */
export function percent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  const shown = Math.min(Math.max(fraction, -10), 10) * 100;
  return `${shown.toFixed(shown !== 0 && Math.abs(shown) < 0.1 ? 2 : 1)}%`;
}

/** `part` of `whole` as a percentage: the one way the pages show a rate. */
export function ratePercent(part: number, whole: number): string {
  return percent(rate(part, whole));
}

/** A signed difference in percentage points ("+3.1 pp"). */
export function points(difference: number | null | undefined): string {
  if (difference === null || difference === undefined || !Number.isFinite(difference)) return "—";
  const value = difference * 100;
  return `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(1)} pp`;
}

const COUNT = new Intl.NumberFormat("en-US");
const MONEY = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A signed amount of money ("+5.28", "−1.00"). */
export function signedMoney(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return `${value > 0 ? "+" : value < 0 ? "−" : ""}${MONEY.format(Math.abs(value))}`;
}

export function count(value: number): string {
  return Number.isInteger(value) ? COUNT.format(value) : value.toFixed(2);
}

export function money(value: number): string {
  return MONEY.format(value);
}

/** A stored UTC moment as the reader's date and time, to the minute. */
export function moment(iso: string | null | undefined): string {
  if (!iso) return "—";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString("en-GB", {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** How far `iso` lies from `now`, in words: "in 2 days", "3 hours ago". */
export function fromNow(iso: string, now: Date): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return "";
  const units: [string, number][] = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    const amount = Math.floor(Math.abs(seconds) / size);
    // "in 47 hours" rather than "in 1 day" for a deadline of nearly two days.
    if (amount >= (unit === "minute" ? 1 : 2)) {
      const label = `${amount} ${unit}${amount === 1 ? "" : "s"}`;
      return seconds >= 0 ? `in ${label}` : `${label} ago`;
    }
  }
  return seconds >= 0 ? "in less than a minute" : "just now";
}

/** A duration in seconds in words: "3.5 h", "2.1 d". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** Any JSON value as one line of text (strings as they are, the rest as JSON). */
export function plain(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "—";
  return JSON.stringify(value);
}

/**
 * An event's properties as label and value a person reads: top-level names with their
 * values; a list says how many it holds and shows its first item, an object its fields.
 */
export function propertyPairs(properties: Record<string, unknown>): [string, string][] {
  const inline = (value: unknown): string => {
    if (value === null || value === undefined) return "—";
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) {
      if (value.length === 0) return "none";
      const first = inline(value[0]);
      return value.length === 1 ? first : `${value.length} items: ${first}, …`;
    }
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k} ${inline(v)}`)
      .join(", ");
  };
  return Object.entries(properties).map(([name, value]) => [name, inline(value)]);
}
