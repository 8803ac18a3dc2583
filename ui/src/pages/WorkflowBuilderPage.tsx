// The builder: edit a workflow on the canvas or as YAML, validated by the server as you go,
// saved as a draft as you go, and published only when you say so.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "wouter";
import { api, unwrap } from "../api/client";
import { ApiError, describe } from "../api/problem";
import { BuilderCanvas, StepPanel } from "../builder/BuilderCanvas";
import { start, push, redo, undo, type History } from "../builder/history";
import {
  STEP_HELP,
  STEP_TYPES,
  copySteps,
  emptySpec,
  fromYaml,
  pasteSteps,
  toYaml,
  type Clip,
} from "../builder/model";
import { inTurn, type Line } from "../builder/inTurn";
import { nodeOf, type ProblemOut } from "../builder/problems";
import { mapTargets, type StepMap } from "../builder/moveMap";
import { sectionOf } from "../builder/settings";
import { WorkflowForm } from "../builder/WorkflowForm";
import { STEP_LABELS, type Spec } from "../canvas/graph";
import { StepIcon } from "../canvas/StepIcon";
import "../styles/builder.css";

// The dialog's dry run and move plan: a chunk of its own, loaded when the dialog opens.
const PublishPreview = lazy(() => import("../builder/PublishPreview"));


/** The builder's state: the text (what is saved) and the last spec it could be read as. */
export interface Editing {
  source: string;
  spec: Spec;
  error: string | null;
}

const VALIDATE_AFTER_MS = 300;
const SAVE_AFTER_MS = 800;

function fromSpec(spec: Spec): Editing {
  return { source: toYaml(spec), spec, error: null };
}

function fromText(text: string, previous: Spec): Editing {
  const read = fromYaml(text);
  return "spec" in read ? { source: text, spec: read.spec, error: null } : { source: text, spec: previous, error: read.error };
}

type SaveState = "saved" | "saving" | "unsaved" | "failed";

const yamlBody = (source: string) => ({
  body: source as unknown as Record<string, never>,
  bodySerializer: (body: unknown) => String(body),
  headers: { "Content-Type": "application/yaml" },
});

async function loadSource(key: string): Promise<{ source: string; published: number | null; draft: boolean }> {
  // Lists first, so a new workflow costs no 404s: its draft, else its live version, else empty.
  const [drafts, workflows] = await Promise.all([unwrap(api.GET("/api/workflow-drafts")), unwrap(api.GET("/api/workflows"))]);
  const live = workflows.find((w) => w.key === key);
  const published = live?.version ?? null;
  if (drafts.some((d) => d.key === key)) {
    const draft = await unwrap(api.GET("/api/workflows/{key}/draft", { params: { path: { key } } }));
    return { source: draft.source, published, draft: true };
  }
  if (live) {
    const workflow = await unwrap(api.GET("/api/workflows/{key}", { params: { path: { key } } }));
    const current = workflow.versions.find((v) => v.version === workflow.version);
    if (current) return { source: toYaml(current.spec as Spec), published, draft: false };
  }
  return { source: toYaml(emptySpec(key, key.replace(/[_-]+/g, " "))), published: null, draft: false };
}

/** What a move did, in a sentence. */
function movedSentence(moved: { moved: number; stranded: number }): string {
  return `Moved ${moved.moved.toLocaleString()} waiting contact${moved.moved === 1 ? "" : "s"} onto it; ${moved.stranded.toLocaleString()} stayed on their version.`;
}

export function WorkflowBuilderPage({ workflowKey }: { workflowKey: string }) {
  const loaded = useQuery({
    queryKey: ["workflow-source", workflowKey],
    queryFn: () => loadSource(workflowKey),
    staleTime: Infinity,
    gcTime: 0,
  });
  if (loaded.isPending) return <p className="page muted">Loading the builder…</p>;
  if (loaded.isError) {
    return (
      <p className="page alert alert--error" role="alert">
        {describe(loaded.error)}
      </p>
    );
  }
  return (
    <Builder
      workflowKey={workflowKey}
      initial={loaded.data.source}
      published={loaded.data.published}
      drafted={loaded.data.draft}
    />
  );
}

function Builder({
  workflowKey,
  initial,
  published,
  drafted,
}: {
  workflowKey: string;
  initial: string;
  published: number | null;
  drafted: boolean;
}) {
  const queries = useQueryClient();
  const [history, setHistory] = useState<History<Editing>>(() => start(fromText(initial, emptySpec(workflowKey, workflowKey))));
  const editing = history.present;
  const [selected, setSelected] = useState<string[]>([]);
  const [tab, setTab] = useState<"step" | "workflow" | "problems" | "yaml">("problems");
  const [problems, setProblems] = useState<ProblemOut[]>([]);
  const [checked, setChecked] = useState<string | null>(null);
  const [validationError, setValidationError] = useState<string | null>(null);
  const [saveState, setSaveState] = useState<SaveState>("saved");
  const [saveError, setSaveError] = useState<string | null>(null);
  const [publishing, setPublishing] = useState<string | null>(null);
  const [publishError, setPublishError] = useState<string | null>(null);
  const [version, setVersion] = useState<number | null>(published);
  // The diff shown, and whether a draft (rather than the live version) is what publishes.
  const [summary, setSummary] = useState<{ diff: string; draft: boolean } | null>(null);
  // Move the journeys waiting in older versions onto the new one after publishing.
  const [moveWaiting, setMoveWaiting] = useState(false);
  // Where journeys at steps renamed or removed go in the new version (the CLI's --map).
  const [moveMap, setMoveMap] = useState<StepMap>({});
  // A move that failed after its publish: the map to try it again with.
  const [retryMove, setRetryMove] = useState<StepMap | null>(null);
  const clip = useRef<Clip | null>(null);
  const lastSaved = useRef(initial);
  // Whether the server holds a draft of this workflow (publishing drops it).
  const hasDraft = useRef(drafted);

  const change = useCallback((next: Editing) => setHistory((h) => push(h, next)), []);
  const changeSpec = useCallback(
    (update: (spec: Spec) => Spec) => setHistory((h) => push(h, fromSpec(update(h.present.spec)))),
    [],
  );

  // Live validation: the server's validator on the text, shortly after every change.
  useEffect(() => {
    const source = editing.source;
    const timer = window.setTimeout(() => {
      void unwrap(api.POST("/api/workflows/validate", yamlBody(source)))
        .then((data) => {
          setProblems(data.problems);
          setChecked(source);
          setValidationError(null);
        })
        .catch((error: unknown) => setValidationError(describe(error)));
    }, VALIDATE_AFTER_MS);
    return () => window.clearTimeout(timer);
  }, [editing.source]);

  // Autosave: the draft, valid or not, shortly after the last change. One save at a time:
  // on a slow server an older save could otherwise land after a newer one and leave the
  // server holding the older text while the page says "All changes saved".
  const saveNow = useCallback(
    async (source: string): Promise<string | null> => {
      if (source === lastSaved.current) return null;
      setSaveState("saving");
      try {
        await unwrap(api.PUT("/api/workflows/{key}/draft", { params: { path: { key: workflowKey } }, ...yamlBody(source) }));
      } catch (error) {
        setSaveState("failed");
        setSaveError(describe(error));
        return describe(error);
      }
      lastSaved.current = source;
      hasDraft.current = true;
      setSaveError(null);
      setSaveState((state) => (state === "saving" ? "saved" : state));
      return null;
    },
    [workflowKey],
  );
  /** Save the text as the draft, after any save still on its way; the reason when it
   * could not be saved. */
  const saving = useRef<Line["current"]>(Promise.resolve());
  const save = useCallback((source: string) => inTurn(saving, () => saveNow(source)), [saveNow]);
  useEffect(() => {
    if (editing.source === lastSaved.current) return;
    setSaveState("unsaved");
    const timer = window.setTimeout(() => void save(editing.source).catch((e: unknown) => {
      setSaveState("failed");
      setSaveError(describe(e));
    }), SAVE_AFTER_MS);
    return () => window.clearTimeout(timer);
  }, [editing.source, save]);

  // Leaving with changes not yet saved: the browser asks first.
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (editing.source !== lastSaved.current) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [editing.source]);

  // Publishing is two clicks: first what would change (the diff from the live version and
  // what the validator still says), then the publish itself.
  const review = async () => {
    setPublishError(null);
    setPublishing(null);
    setMoveWaiting(false);
    setMoveMap({});
    setRetryMove(null);
    const unsaved = await save(editing.source);
    if (unsaved) {
      setPublishError(`The draft could not be saved, so nothing can be published: ${unsaved}`);
      return;
    }
    if (version === null || !hasDraft.current) {
      setSummary({ diff: "", draft: hasDraft.current });
      return;
    }
    try {
      const diff = await unwrap(
        api.GET("/api/workflows/{key}/diff", {
          params: { path: { key: workflowKey }, query: { from: String(version), to: "draft" } },
        }),
      );
      setSummary({ diff: diff.diff, draft: true });
    } catch (error) {
      setPublishError(describe(error));
    }
  };

  const publish = async () => {
    setPublishError(null);
    setSummary(null);
    setPublishing("Publishing…");
    try {
      const unsaved = await save(editing.source);
      if (unsaved) throw new Error(`The draft could not be saved, so nothing was published: ${unsaved}`);
      // One request: the publish and, when chosen, the move of the waiting journeys. A map
      // that does not fit is refused before anything is published.
      const move = moveWaiting ? { move: true, map: moveMap } : undefined;
      const answer = api.POST("/api/workflows/{key}/publish", { params: { path: { key: workflowKey } }, ...(move ? { body: move } : {}) });
      if (!hasDraft.current && version !== null && (await answer).response.status === 404) {
        // No draft: what is on screen is the live version.
        setPublishing(`Nothing changed: version ${version} is live.`);
        return;
      }
      const done = await unwrap(answer);
      // The draft became the live version (the server dropped it): nothing is left to save.
      lastSaved.current = editing.source;
      hasDraft.current = false;
      setVersion(done.version);
      let said = done.created_version ? `Published as version ${done.version}.` : `Nothing changed: version ${done.version} is live.`;
      if (done.move) said += ` ${movedSentence(done.move)}`;
      if (done.move_error) {
        setPublishError(`Published as version ${done.version}, but ${done.move_error}.`);
        setRetryMove(moveMap);
      }
      setPublishing(said);
      void queries.invalidateQueries({ queryKey: ["workflows"] });
      void queries.invalidateQueries({ queryKey: ["workflow", workflowKey] });
    } catch (error) {
      setPublishing(null);
      setPublishError(error instanceof Error && !(error instanceof ApiError) ? error.message : describe(error));
    }
  };

  // A move that failed after the publish, tried again as it was asked for.
  const moveAgain = async (map: StepMap) => {
    setPublishError(null);
    try {
      const moved = await unwrap(
        api.POST("/api/workflows/{key}/migration/apply", { params: { path: { key: workflowKey } }, body: { map, draft: false } }),
      );
      setRetryMove(null);
      setPublishing(movedSentence(moved));
    } catch (error) {
      setPublishError(`The waiting contacts were not all moved: ${describe(error)}`);
    }
  };

  // Keys: undo, redo, copy and paste, unless typing in a field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
      if (!(event.ctrlKey || event.metaKey)) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) setHistory(undo);
      else if ((key === "z" && event.shiftKey) || key === "y") setHistory(redo);
      else if (key === "c" && selected.length) clip.current = copySteps(editing.spec, selected);
      else if (key === "v" && clip.current?.steps.length) {
        const pasted = pasteSteps(editing.spec, clip.current, { x: 48, y: 48 });
        change(fromSpec(pasted.spec));
        setSelected(pasted.ids);
      } else return;
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [editing.spec, selected, change]);

  // Problems of the text the validator last saw; a newer text is being checked.
  const current = problems;
  const stale = checked !== editing.source;
  const errors = current.filter((p) => p.severity === "error").length;
  const warnings = current.length - errors;
  const steps = Array.isArray(editing.spec.steps) ? editing.spec.steps : [];
  const name = typeof editing.spec.name === "string" ? editing.spec.name : "";
  const focus = useRef<((id: string) => void) | null>(null);
  const selectNode = (id: string) => {
    setSelected([id]);
    setTab("step");
    focus.current?.(id);
  };
  const saveLabel = useMemo(
    () =>
      ({
        saved: "All changes saved",
        saving: "Saving…",
        unsaved: "Unsaved changes",
        failed: `Not saved: ${saveError ?? "try again"}`,
      })[saveState],
    [saveState, saveError],
  );

  return (
    <section className="page page--full builder">
      <header className="page__header builder__header">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link href="/workflows">Workflows</Link>
          <span aria-hidden="true">/</span>
        </nav>
        <input
          className="input builder__name"
          aria-label="Workflow name"
          value={name}
          onChange={(e) => changeSpec((spec) => ({ ...spec, name: e.target.value }))}
        />
        <span className="muted">{version ? `live: version ${version}` : "not published yet"}</span>
        <span className={`builder__saved builder__saved--${saveState}`} data-testid="save-state" role="status">
          {saveLabel}
        </span>
        <div className="builder__actions">
          <button type="button" className="button" onClick={() => setHistory(undo)} disabled={!history.past.length} title="Undo (Ctrl+Z)">
            Undo
          </button>
          <button type="button" className="button" onClick={() => setHistory(redo)} disabled={!history.future.length} title="Redo (Ctrl+Shift+Z)">
            Redo
          </button>
          {version !== null && (
            <Link className="button" href={`/workflows/${encodeURIComponent(workflowKey)}`}>
              View live
            </Link>
          )}
          <button type="button" className="button button--primary" onClick={() => void review()} disabled={publishing === "Publishing…"}>
            Publish…
          </button>
        </div>
      </header>
      {publishing && publishing !== "Publishing…" && (
        <p className="alert builder__published" role="status">
          {publishing}
        </p>
      )}
      {summary && (
        <section className="publish-summary" aria-label="Publish summary">
          <h2 className="publish-summary__title">
            {version === null ? "Publish the first version" : `Publish version ${version + 1}`}
          </h2>
          <p className="muted">
            {steps.length} step{steps.length === 1 ? "" : "s"};{" "}
            {errors ? `${errors} problem${errors === 1 ? "" : "s"} to fix first (the server will refuse)` : "the validator accepts it"}
            {warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}. New contacts start on the new version;
            journeys already running stay on theirs unless you move them.
          </p>
          {version !== null && (
            <pre className="versions__diff" data-testid="publish-diff">
              {summary.diff
                ? summary.diff.split("\n").map((line, i) => (
                    <span key={i} className={line.startsWith("+") ? "diff--add" : line.startsWith("-") ? "diff--del" : undefined}>
                      {line}
                      {"\n"}
                    </span>
                  ))
                : `No change from version ${version}.`}
            </pre>
          )}
          {(summary.draft || version !== null) && (
            <Suspense fallback={<p className="muted">Loading the dry run…</p>}>
              <PublishPreview
                workflowKey={workflowKey}
                draft={summary.draft}
                live={version !== null}
                move={moveWaiting}
                onMove={setMoveWaiting}
                map={moveMap}
                onMap={setMoveMap}
                targets={mapTargets(editing.spec)}
              />
            </Suspense>
          )}
          <div className="publish-summary__actions">
            <button type="button" className="button button--primary" onClick={() => void publish()}>
              {moveWaiting ? "Publish and move them" : "Publish now"}
            </button>
            <button type="button" className="button" onClick={() => setSummary(null)}>
              Keep editing
            </button>
          </div>
        </section>
      )}
      {publishError && (
        <p className="alert alert--error" role="alert">
          {publishError}
          {retryMove && (
            <>
              {" "}
              <button type="button" className="button" onClick={() => void moveAgain(retryMove)}>
                Move them again
              </button>
            </>
          )}
        </p>
      )}
      <div className="builder__body">
        <nav className="palette" aria-label="Step types">
          <p className="palette__title">Drag onto the canvas</p>
          {STEP_TYPES.map((type) => (
            <div
              key={type}
              className={`palette__item step--${type}`}
              draggable
              data-testid={`palette-${type}`}
              title={STEP_HELP[type]}
              onDragStart={(event) => {
                event.dataTransfer.setData("application/x-tidings-step", type);
                event.dataTransfer.effectAllowed = "move";
              }}
            >
              <span className="palette__badge">
                <StepIcon kind={type} />
              </span>
              {STEP_LABELS[type]}
            </div>
          ))}
          <p className="palette__note">Select a step, or click a line, then drop: the new step goes after it, or on it.</p>
        </nav>
        <BuilderCanvas
          spec={editing.spec}
          problems={current}
          selected={selected}
          onSelect={setSelected}
          onChange={(spec) => change(fromSpec(spec))}
          onOpen={() => setTab("step")}
          focusRef={focus}
        />
        <div className="builder__side">
          <div className="tabs" role="tablist">
            {(
              [
                ["step", "Step"],
                ["workflow", "Goal & policies"],
                ["problems", `Problems${current.length ? ` (${current.length})` : ""}`],
                ["yaml", "YAML"],
              ] as const
            ).map(([id, label]) => (
              <button
                key={id}
                type="button"
                role="tab"
                aria-selected={tab === id}
                className={`tabs__tab${tab === id ? " tabs__tab--active" : ""}`}
                onClick={() => setTab(id)}
              >
                {label}
              </button>
            ))}
          </div>
          {tab === "step" && (
            <StepPanel
              spec={editing.spec}
              selected={selected}
              problems={current}
              onChange={(spec) => change(fromSpec(spec))}
              onClose={() => setSelected([])}
              onRename={(from, to) => setSelected((chosen) => chosen.map((id) => (id === from ? to : id)))}
            />
          )}
          {tab === "workflow" && (
            <WorkflowForm spec={editing.spec} problems={current} onChange={(spec) => change(fromSpec(spec))} />
          )}
          {tab === "problems" && (
            <div className="problems">
              {validationError && <p className="alert alert--error">{validationError}</p>}
              {!validationError && current.length === 0 && (
                <p className="muted">No problems: the validator accepts this workflow. Publish when ready.</p>
              )}
              {stale && <p className="muted">Checking the latest change…</p>}
              {errors > 0 && <p className="muted">{errors} to fix before publishing; click one to go to its step.</p>}
              <ul className="problems__list" aria-label="Problems">
                {current.map((p, i) => {
                  const node = nodeOf(p);
                  // A problem of the goal or the policies opens their form.
                  const section = node === null ? sectionOf(p) : null;
                  return (
                    <li key={i} className={`problems__item problems__item--${p.severity}`}>
                      <button type="button" className="problems__button" disabled={node === null && section === null}
                        onClick={() => (node !== null ? selectNode(node) : setTab("workflow"))}
                      >
                        <span className="problems__where">{p.step_id ?? "workflow"}</span>
                        <span>
                          {p.message}
                          {p.hint && <span className="problems__hint"> — {p.hint}</span>}
                        </span>
                        <code className="problems__path">{p.path || "(top)"}</code>
                      </button>
                    </li>
                  );
                })}
              </ul>
            </div>
          )}
          {tab === "yaml" && (
            <div className="yaml">
              <textarea
                className="yaml__text"
                aria-label="Workflow YAML"
                spellCheck={false}
                value={editing.source}
                onChange={(e) => change(fromText(e.target.value, editing.spec))}
              />
              {editing.error && (
                <p className="alert alert--error" role="alert">
                  The canvas shows the last readable version: {editing.error}
                </p>
              )}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
