// A workflow's versions and status: pause, resume, archive, and a diff between any two
// versions (or a version and the draft), as the server's unified YAML diff.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { describe } from "../api/problem";
import { Confirm } from "./common/parts";

type Action = "pause" | "activate" | "archive";

const ACTIONS: Record<Action, { label: string; path: `/api/workflows/{key}/${Action}` }> = {
  pause: { label: "Pause", path: "/api/workflows/{key}/pause" },
  activate: { label: "Resume", path: "/api/workflows/{key}/activate" },
  archive: { label: "Archive", path: "/api/workflows/{key}/archive" },
};

export function StatusActions({ workflowKey, status }: { workflowKey: string; status: string }) {
  const queries = useQueryClient();
  const act = useMutation({
    mutationFn: (action: Action) => unwrap(api.POST(ACTIONS[action].path, { params: { path: { key: workflowKey } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["workflow", workflowKey] }),
  });
  const [archiving, setArchiving] = useState(false);
  const offered: Action[] = status === "active" ? ["pause", "archive"] : status === "paused" ? ["activate", "archive"] : ["activate"];
  return (
    <span className="status-actions">
      {offered.map((action) => (
        <button
          key={action}
          type="button"
          className="button"
          disabled={act.isPending}
          // Archiving retires the workflow: asked first, like every step that is hard to take back.
          onClick={() => (action === "archive" ? setArchiving(true) : act.mutate(action))}
        >
          {ACTIONS[action].label}
        </button>
      ))}
      {archiving && (
        <Confirm
          title={`Archive ${workflowKey}?`}
          action="Archive workflow"
          busy={act.isPending}
          onConfirm={() => act.mutate("archive", { onSettled: () => setArchiving(false) })}
          onCancel={() => setArchiving(false)}
        >
          <p>It takes no new contacts and is marked retired. Resume makes it active again.</p>
        </Confirm>
      )}
      {act.isError && (
        <span className="form__problem" role="alert">
          {describe(act.error)}
        </span>
      )}
    </span>
  );
}

export function VersionDiff({ workflowKey, versions }: { workflowKey: string; versions: number[] }) {
  const last = versions.at(-1) ?? 1;
  const [from, setFrom] = useState(String(Math.max(1, last - 1)));
  const [to, setTo] = useState(String(last));
  const drafts = useQuery({ queryKey: ["workflow-drafts"], queryFn: () => unwrap(api.GET("/api/workflow-drafts")) });
  const hasDraft = drafts.data?.some((d) => d.key === workflowKey) ?? false;
  const choices = [...versions.map(String), ...(hasDraft ? ["draft"] : [])];
  const diff = useQuery({
    queryKey: ["workflow-diff", workflowKey, from, to],
    enabled: from !== to,
    queryFn: () =>
      unwrap(api.GET("/api/workflows/{key}/diff", { params: { path: { key: workflowKey }, query: { from, to } } })),
  });
  const pick = (value: string, set: (v: string) => void, label: string) => (
    <select className="select" aria-label={label} value={value} onChange={(e) => set(e.target.value)}>
      {choices.map((c) => (
        <option key={c} value={c}>
          {c === "draft" ? "draft" : `version ${c}`}
        </option>
      ))}
    </select>
  );
  return (
    <details className="versions">
      <summary>
        Versions ({versions.length}){hasDraft ? " and a draft" : ""}: compare
      </summary>
      <div className="versions__pick">
        {pick(from, setFrom, "Compare from")} → {pick(to, setTo, "Compare to")}
      </div>
      {from === to && <p className="muted">Choose two different versions.</p>}
      {diff.isError && <p className="alert alert--error">{describe(diff.error)}</p>}
      {diff.data && (
        <pre className="versions__diff" data-testid="version-diff">
          {diff.data.diff ? <DiffLines diff={diff.data.diff} /> : "No difference."}
        </pre>
      )}
    </details>
  );
}

/** A unified diff's lines, added ones green and removed ones red (by class, under the CSP). */
export function DiffLines({ diff }: { diff: string }) {
  return (
    <>
      {diff.split("\n").map((line, i) => (
        <span key={i} className={line.startsWith("+") ? "diff--add" : line.startsWith("-") ? "diff--del" : undefined}>
          {line}
          {"\n"}
        </span>
      ))}
    </>
  );
}
