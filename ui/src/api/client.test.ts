import { describe, expect, it } from "vitest";
import { api, unwrap } from "./client";
import { ApiError } from "./problem";

describe("unwrap", () => {
  it("turns a refusal into the server's problem, with each field's error", async () => {
    const problem = {
      title: "Invalid request",
      status: 400,
      errors: [{ path: "body.sender.from_email", message: "contains spaces" }],
    };
    // The real client reads the body itself; only the network is replaced.
    const fetch = async () =>
      new Response(JSON.stringify(problem), { status: 400, headers: { "Content-Type": "application/problem+json" } });
    const error = await unwrap(api.GET("/api/settings", { fetch, baseUrl: "http://127.0.0.1/" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).problem).toEqual(problem);
  });
});
