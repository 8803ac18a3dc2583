/** A line of calls: each starts only when the one before it has ended (resolved or failed). */
export type Line = { current: Promise<unknown> };

/** Run `work` after every call already in `line`, so calls reach the server in the order
 * they were made; its result (or failure) goes to this caller only. */
export function inTurn<R>(line: Line, work: () => Promise<R>): Promise<R> {
  const turn = line.current.then(work);
  line.current = turn.catch(() => undefined);
  return turn;
}
