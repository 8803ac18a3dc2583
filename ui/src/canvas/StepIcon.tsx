// One small line icon per kind of node, drawn as SVG paths (no icon font, no inline HTML).
import type { NodeKind } from "./graph";

const PATHS: Record<NodeKind, string> = {
  trigger: "M13 2 4 14h7l-1 8 9-12h-7l1-8z",
  send: "M3 5h18v14H3z M3 6l9 7 9-7",
  wait: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M12 7v5l3 2",
  branch: "M6 3v12 M6 15a3 3 0 1 0 0 6 3 3 0 0 0 0-6z M18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M18 9c0 4-12 3-12 6",
  split: "M12 3v6 M12 9 5 17 M12 9l7 8 M5 17v4 M19 17v4",
  update: "M4 20h4L19 9l-4-4L4 16v4z M13 7l4 4",
  webhook: "M10 13a5 5 0 0 0 7 0l3-3a5 5 0 0 0-7-7l-1 1 M14 11a5 5 0 0 0-7 0l-3 3a5 5 0 0 0 7 7l1-1",
  notify: "M6 8a6 6 0 1 1 12 0c0 7 3 8 3 8H3s3-1 3-8 M10 20a2 2 0 0 0 4 0",
  approval: "M9 12l2 2 4-4 M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6l8-3z",
  enroll: "M5 12h14 M13 6l6 6-6 6",
  exit: "M10 17l5-5-5-5 M15 12H3 M14 3h6v18h-6",
  suppress: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M5.6 5.6l12.8 12.8",
  end: "M6 6h12v12H6z",
  unknown: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z",
};

export function StepIcon({ kind }: { kind: NodeKind }) {
  return (
    <svg className="step-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[kind]} />
    </svg>
  );
}
