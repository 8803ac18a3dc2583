import { describe, expect, it } from "vitest";
import { inTurn, type Line } from "./inTurn";

describe("inTurn", () => {
  it("starts a call only after the one before it ended, even when that one is slower", async () => {
    const line: Line = { current: Promise.resolve() };
    const landed: string[] = [];
    const put = (text: string, ms: number) =>
      inTurn(line, async () => {
        await new Promise((done) => setTimeout(done, ms));
        landed.push(text);
        return text;
      });
    const results = await Promise.all([put("older", 30), put("newer", 0)]);
    expect(landed).toEqual(["older", "newer"]);
    expect(results).toEqual(["older", "newer"]);
  });

  it("goes on after a failed call, and the failure reaches its own caller", async () => {
    const line: Line = { current: Promise.resolve() };
    const first = inTurn(line, () => Promise.reject(new Error("refused")));
    const second = inTurn(line, () => Promise.resolve("good"));
    await expect(first).rejects.toThrow("refused");
    await expect(second).resolves.toBe("good");
  });
});
