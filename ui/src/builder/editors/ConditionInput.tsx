// A condition field with completion of field names from the workspace's schema as you type,
// and a live count of the contacts that match now (for conditions on contact and consent
// fields), with the server's parser errors at the field. Loaded lazily with the editors.
import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, useRef, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ApiError, describe } from "../../api/problem";
import { apply, complete, countable, type Completion, type SchemaNames } from "./completion";
import { useDebounced } from "./useDebounced";
import "../../styles/preview.css";

export const COUNT_AFTER_MS = 400;
export const SCHEMA_KEY = ["schema"];

export interface ConditionInputProps {
  id?: string;
  label?: string;
  value: string;
  placeholder?: string;
  /** The trigger's event, whose properties `event.*` and `trigger.*` offer first. */
  eventName?: string;
  invalid?: boolean;
  onChange: (value: string) => void;
}

function useSchema() {
  return useQuery({
    queryKey: SCHEMA_KEY,
    queryFn: () => unwrap(api.GET("/api/schema")),
    staleTime: 60_000,
  });
}

function countMessage(error: unknown): string {
  if (error instanceof ApiError && error.problem?.errors?.length) {
    return error.problem.errors.map((e) => e.message + (e.hint ? ` (${e.hint})` : "")).join("; ");
  }
  return describe(error);
}

function LiveCount({ condition }: { condition: string }) {
  const settled = useDebounced(condition.trim(), COUNT_AFTER_MS);
  const can = settled !== "" && countable(settled);
  const counted = useQuery({
    queryKey: ["condition-count", settled],
    queryFn: () => unwrap(api.POST("/api/segments/preview", { body: { condition: settled } })),
    enabled: can,
    retry: false,
    staleTime: 10_000,
  });
  if (settled === "") return null;
  if (!can) return <p className="form__hint">No live count: the condition reads the event; counts cover contact and consent fields.</p>;
  if (counted.isError) {
    return (
      <p className="form__problem" role="alert">
        {countMessage(counted.error)}
      </p>
    );
  }
  if (!counted.data) return <p className="form__hint">Counting…</p>;
  const n = counted.data.size;
  return (
    <p className="form__hint" data-testid="condition-count">
      {n.toLocaleString()} contact{n === 1 ? "" : "s"} match now
    </p>
  );
}

export function ConditionInput({ id, label, value, placeholder, eventName, invalid, onChange }: ConditionInputProps) {
  const schema = useSchema();
  const input = useRef<HTMLInputElement>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [closed, setClosed] = useState(false);
  const listId = useId();
  const names: SchemaNames | undefined = schema.data;
  const found: Completion | null = useMemo(
    () => (names && caret !== null && !closed ? complete(value, caret, names, eventName) : null),
    [names, value, caret, closed, eventName],
  );
  const choose = (option: string) => {
    if (!found) return;
    const next = apply(value, found, option);
    onChange(next.text);
    setCaret(next.caret);
    requestAnimationFrame(() => input.current?.setSelectionRange(next.caret, next.caret));
  };
  const track = (e: { currentTarget: HTMLInputElement }) => setCaret(e.currentTarget.selectionStart);
  return (
    <div className="completion">
      <div className="completion__field">
      <input
        ref={input}
        id={id}
        className={`input${invalid ? " input--invalid" : ""}`}
        aria-label={id ? undefined : label}
        aria-invalid={invalid || undefined}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={found !== null}
        aria-controls={listId}
        aria-activedescendant={found ? `${listId}-${Math.min(active, found.options.length - 1)}` : undefined}
        autoComplete="off"
        spellCheck={false}
        placeholder={placeholder}
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          setCaret(e.target.selectionStart);
          setActive(0);
          setClosed(false);
        }}
        onClick={track}
        onKeyUp={(e) => {
          if (!["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(e.key)) track(e);
        }}
        onBlur={() => setClosed(true)}
        onFocus={() => setClosed(false)}
        onKeyDown={(e) => {
          if (!found) return;
          const count = found.options.length;
          if (e.key === "ArrowDown") setActive((a) => (a + 1) % count);
          else if (e.key === "ArrowUp") setActive((a) => (a - 1 + count) % count);
          else if (e.key === "Enter" || e.key === "Tab") choose(found.options[Math.min(active, count - 1)]!);
          else if (e.key === "Escape") setClosed(true);
          else return;
          e.preventDefault();
        }}
      />
      {found && (
        <ul className="completion__list" id={listId} role="listbox" aria-label="Suggestions">
          {found.options.map((option, i) => (
            <li
              key={option}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === Math.min(active, found.options.length - 1)}
              className="completion__option"
              // mousedown, not click: the input keeps its focus (and the list stays).
              onMouseDown={(e) => {
                e.preventDefault();
                choose(option);
              }}
            >
              {option}
            </li>
          ))}
        </ul>
      )}
      </div>
      <LiveCount condition={value} />
    </div>
  );
}

export interface EventNameInputProps {
  id: string;
  value: string;
  invalid?: boolean;
  onChange: (value: string) => void;
}

/** An event name field that offers the names the workspace has seen (as text: a datalist). */
export function EventNameInput({ id, value, invalid, onChange }: EventNameInputProps) {
  const schema = useSchema();
  const listId = `${id}-events`;
  return (
    <>
      <input
        id={id}
        className={`input${invalid ? " input--invalid" : ""}`}
        list={listId}
        autoComplete="off"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      <datalist id={listId}>
        {(schema.data?.events ?? []).map((e) => (
          <option key={e.name} value={e.name} />
        ))}
      </datalist>
    </>
  );
}
