// The send-time policies' fields, as the server's models (core/pacing.py, core/policies.py)
// name them: the workspace's policies on the Settings page and a workflow's own in the builder.
import type { components } from "../api/schema";
import type { FieldSpec } from "../forms/Field";
import type { Values } from "../forms/values";

/** The channels a cap can count, as the server's model names them (a missing one fails tsc). */
export const CAP_CHANNELS = ["email", "sms"] as const satisfies readonly components["schemas"]["Channel"][];
type Missing = Exclude<components["schemas"]["Channel"], (typeof CAP_CHANNELS)[number]>;
const everyChannel: [Missing] extends [never] ? true : never = true;
void everyChannel;

export const CAP_FIELDS: FieldSpec[] = [
  { name: "limit", label: "At most", kind: "number" },
  { name: "per", label: "Per", kind: "text", hint: "a duration: 1d, 1w" },
  { name: "channel", label: "Channel", kind: { options: ["", ...CAP_CHANNELS] }, hint: "empty: every channel" },
];

export const QUIET_FIELDS: FieldSpec[] = [
  { name: "start", label: "From", kind: "text", hint: "on the contact's clock, e.g. 21:00" },
  { name: "end", label: "Until", kind: "text", hint: "e.g. 08:00" },
  { name: "channels", label: "Channels", kind: "list", hint: "comma separated; email, sms when empty" },
];

export const PURCHASE_FIELDS: FieldSpec[] = [
  { name: "event", label: "After the event", kind: "event" },
  { name: "for", label: "Hold marketing for", kind: "text", hint: "e.g. 3d" },
];

export const DUPLICATE_FIELDS: FieldSpec[] = [
  { name: "within", label: "Drop a message identical to one sent within", kind: "text", hint: "e.g. 1d" },
];

export const ALERT_BUDGET_FIELDS: FieldSpec[] = [
  { name: "per_day", label: "At most, per day", kind: "number", hint: "internal alerts; the rest wait for the next day" },
];

/** A new frequency cap: one message a day. */
export const NEW_CAP: Values = { limit: 1, per: "1d" };
/** New quiet hours: the evening and night, on the contact's clock. */
export const NEW_QUIET: Values = { start: "21:00", end: "08:00" };
/** A new purchase window: no marketing for three days after an order. */
export const NEW_PURCHASE: Values = { event: "order_completed", for: "3d" };
/** New duplicate suppression: the same message at most once a day. */
export const NEW_DUPLICATES: Values = { within: "1d" };
/** A new alert budget. */
export const NEW_ALERT_BUDGET: Values = { per_day: 20 };
