import { describe, expect, it } from "vitest";
import { listOf, optionalRecord, withList } from "./values";

describe("the values a form edits", () => {
  it("reads an unset rule (missing or null, as the server returns it) as unset", () => {
    expect(optionalRecord({ quiet_hours: null }, "quiet_hours")).toBeUndefined();
    expect(optionalRecord({}, "quiet_hours")).toBeUndefined();
    expect(optionalRecord({ quiet_hours: { start: "21:00" } }, "quiet_hours")).toEqual({ start: "21:00" });
  });
  it("leaves an emptied list out rather than writing []", () => {
    expect(listOf({ caps: [{ limit: 1 }] }, "caps")).toEqual([{ limit: 1 }]);
    expect(withList({ caps: [{ limit: 1 }], timezone: "UTC" }, "caps", [])).toEqual({ timezone: "UTC" });
  });
});
