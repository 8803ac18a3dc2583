// The figures beside each workflow in the list, as the text of their cells. No React, no fetching.
import type { components } from "../api/schema";
import { count, moment, ratePercent } from "./common/format";

export type ListedFigures = components["schemas"]["ListedFigures"];

/** The period the list counts over, as the API reads it, and as the headers say it. */
export const FIGURES_PERIOD = "30d";
export const PERIOD_LABEL = "30 days";

export interface FigureCells {
  inJourney: string;
  entered: string;
  converted: string;
  conversion: string;
  lastEntry: string;
}

const NONE: FigureCells = { inJourney: "—", entered: "—", converted: "—", conversion: "—", lastEntry: "—" };

/**
 * One workflow's cells. The conversion rate divides those of the period's entrants who converted
 * by the period's entrants: the same people above and below the line, so never above 100%. A
 * workflow without a goal has nothing to convert on, and says so rather than showing 0%.
 */
export function figureCells(figures: ListedFigures | null | undefined): FigureCells {
  if (!figures) return NONE;
  return {
    inJourney: count(figures.in_journey),
    entered: count(figures.entered),
    converted: figures.has_goal ? count(figures.converted) : "—",
    conversion: figures.has_goal ? ratePercent(figures.entered_converted, figures.entered) : "no goal",
    lastEntry: figures.last_entered_at ? moment(figures.last_entered_at) : "none", // the caption above the table names the period
  };
}

/** Whether the list has figures and nobody entered any workflow in the period: then say how journeys start. */
export function nobodyEntered(rows: { figures?: ListedFigures | null }[]): boolean {
  const counted = rows.filter((row) => row.figures);
  return counted.length > 0 && counted.every((row) => row.figures?.entered === 0);
}
