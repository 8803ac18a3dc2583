import { describe, expect, it } from "vitest";
import { mappableSteps, mapTargets, withMapping, type MigrationLine } from "./moveMap";

const line = (from_step: string, to_step: string | null): MigrationLine => ({ from_version: 1, from_step, to_step, contacts: 2, note: "" });

describe("the move plan's step map", () => {
  it("offers the steps where contacts would stay, and those already mapped", () => {
    const lines = [line("pause", "pause"), line("gone", null), line("legacy", null), line("gone", null), line("old", "hold")];
    expect(mappableSteps(lines, {})).toEqual(["gone", "legacy"]);
    // Once mapped, a step moves (it has a to_step) but stays in the list to change it back.
    expect(mappableSteps(lines, { old: "hold" })).toEqual(["gone", "legacy", "old"]);
  });

  it("sends contacts only to the new version's waits and approvals", () => {
    const spec = {
      steps: [
        { id: "hold", type: "wait" },
        { id: "tip", type: "send" },
        { id: "ok", type: "approval" },
      ],
    };
    expect(mapTargets(spec)).toEqual(["hold", "ok"]);
  });

  it("adds, changes and takes out an entry", () => {
    const map = withMapping({}, "gone", "hold");
    expect(map).toEqual({ gone: "hold" });
    expect(withMapping(map, "gone", "ok")).toEqual({ gone: "ok" });
    expect(withMapping(map, "gone", "")).toEqual({});
  });
});
