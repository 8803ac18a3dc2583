// Undo and redo over whole states: each edit pushes the state it left behind.

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

/** How many edits undo can go back; older ones are forgotten. */
export const HISTORY_LIMIT = 200;

export function start<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** A new present; the old one can be undone, and anything undone before is gone. */
export function push<T>(history: History<T>, present: T): History<T> {
  if (Object.is(present, history.present)) return history;
  const past = [...history.past, history.present].slice(-HISTORY_LIMIT);
  return { past, present, future: [] };
}

export function undo<T>(history: History<T>): History<T> {
  const previous = history.past.at(-1);
  if (previous === undefined) return history;
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future] };
}

export function redo<T>(history: History<T>): History<T> {
  const [next, ...rest] = history.future;
  if (next === undefined) return history;
  return { past: [...history.past, history.present], present: next, future: rest };
}
