// The shape of GET /api/reports (the report `tidings report` prints). The route answers a
// dataclass tree as JSON, which OpenAPI leaves untyped; these mirror tidings.reporting.build.

export interface Figures {
  entered: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  converted: number;
  revenue: number;
  unsubscribed: number;
  bounced: number;
  resends: number;
  exited: number;
  waiting: number;
}

export interface StepFigures extends Figures {
  step_id: string;
  kind: string;
  left: number;
  drop_off: number | null;
}

export interface WorkflowFigures extends Figures {
  key: string;
  name: string;
  version: number;
  status: string;
  has_goal: boolean;
  completed: number;
  steps: StepFigures[];
  versions: { version: number; entered: number; converted: number; revenue: number; exited: number; waiting: number }[];
  days: { day: string; entered: number; sent: number; opened: number; clicked: number; converted: number; revenue: number }[];
}

export interface Comparison {
  a: number;
  b: number;
  difference: number;
  low: number;
  high: number;
  p_value: number;
}

export interface Arm {
  name: string;
  assigned: number;
  opened: number;
  clicked: number;
  converted: number;
  revenue: number;
  probability_best: number | null;
  click_rate: number | null;
  conversion_rate: number | null;
  revenue_per_contact: number | null;
}

export interface Experiment {
  workflow: string;
  step: string;
  kind: string;
  metric: string;
  arms: Arm[];
  comparisons: { arm: string; metric: string; comparison: Comparison | null; verdict: string; said: string }[];
  winner: string | null;
  promotes: boolean;
  conclusion: string;
}

export interface HoldoutLift {
  workflow: string;
  step: string;
  holdout: number;
  treated: number;
  conversion: Comparison | null;
  revenue: Comparison | null;
  incremental_conversions: [number, number, number] | null;
  incremental_revenue: [number, number, number] | null;
  attributed_revenue: number;
  conclusion: string;
}

export interface Credit {
  conversions: number;
  revenue: number;
}

export interface AttributionRow {
  workflow: string;
  step: string | null;
  credits: Record<string, Credit>;
}

export interface Distribution {
  count: number;
  total: number;
  mean: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
}

export interface Spread {
  group: string;
  contacts: number;
  buyers: number;
  value: Distribution;
}

export interface Finding {
  kind: string;
  subject: string;
  summary: string;
  advice: string;
  numbers: Record<string, number | string>;
}

export interface Report {
  workspace_id: number;
  generated_at: string;
  period: { since: string | null; until: string | null };
  workflows: WorkflowFigures[];
  experiments: Experiment[];
  lifts: HoldoutLift[];
  attribution: {
    models: string[];
    window: number;
    half_life: number;
    conversions: number;
    revenue: number;
    untouched: number;
    untouched_revenue: number;
    workflows: AttributionRow[];
    steps: AttributionRow[];
  };
  value: { overall: Spread; by_source: Spread[]; by_segment: Spread[]; hours_to_convert: Record<string, Distribution> };
  findings: Finding[];
}

export const MODEL_LABELS: Record<string, string> = {
  first_touch: "First touch",
  last_touch: "Last touch",
  linear: "Linear",
  time_decay: "Time decay",
  position: "Position based",
};

/** The workflow an audit finding is about, when its subject names one of the report's:
 * the workflow itself (`welcome`) or one of its steps (`welcome > wait_1d`). */
export function findingWorkflow(finding: Finding, workflows: { key: string }[]): string | null {
  const key = finding.subject.split(" > ")[0] ?? "";
  return workflows.some((w) => w.key === key) ? key : null;
}
