import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/problem";
import { conversion, definitionText, EXAMPLE_FORM, parseDefinition, problemLines } from "./definition";

describe("reading a definition", () => {
  it("takes the example a new form starts from", () => {
    const parsed = parseDefinition(EXAMPLE_FORM);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec.key).toBe("newsletter");
    expect(parsed.spec.fields).toEqual([
      { key: "email", label: "Email", type: "email", required: true },
      { key: "first_name", label: "First name" },
    ]);
  });

  it("takes JSON as well as YAML", () => {
    const parsed = parseDefinition('{"key": "contact", "name": "Contact", "fields": []}');
    expect(parsed).toEqual({ ok: true, spec: { key: "contact", name: "Contact", fields: [] } });
  });

  it("says where text that is not YAML goes wrong, before anything is sent", () => {
    const parsed = parseDefinition("key: contact\nfields: [\n");
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatch(/^The text is not valid YAML or JSON: .*line/);
  });

  it("refuses a list or a scalar, and a definition without a key, saying what is needed", () => {
    expect(parseDefinition("- a\n- b")).toMatchObject({ ok: false, error: expect.stringContaining("must be a mapping") });
    expect(parseDefinition("just words")).toMatchObject({ ok: false });
    expect(parseDefinition("name: Contact")).toMatchObject({ ok: false, error: expect.stringContaining("needs a `key`") });
    expect(parseDefinition("key: '  '")).toMatchObject({ ok: false });
  });

  it("writes a stored definition back as text that reads as the same definition", () => {
    const spec = { key: "c", name: "C", fields: [{ key: "email", label: "<b>Email</b>: yours", type: "email" }] };
    const again = parseDefinition(definitionText(spec));
    expect(again).toEqual({ ok: true, spec });
  });
});

describe("the server's answer", () => {
  it("lists each problem with its field path inside the definition", () => {
    const error = new ApiError(400, {
      title: "Invalid request",
      status: 400,
      errors: [
        { path: "body.fields.0.label", message: "Field required" },
        { path: "body.redirect", message: "is not an allowed origin", hint: "add it in Settings" },
        { path: "body", message: "must be an object" },
      ],
    });
    expect(problemLines(error)).toEqual([
      "fields.0.label: Field required",
      "redirect: is not an allowed origin (add it in Settings)",
      "definition: must be an object",
    ]);
  });

  it("falls back to one line when there is no list of problems", () => {
    expect(problemLines(new ApiError(403, { title: "Forbidden", status: 403, detail: "this needs the editor role" }))).toEqual([
      "Forbidden: this needs the editor role",
    ]);
    expect(problemLines(new Error("offline"))[0]).toMatch(/could not be reached/);
  });
});

describe("conversion", () => {
  it("is submissions of views, and none rather than above 100%", () => {
    expect(conversion({ views: 4, submissions: 1 })).toBe(0.25);
    expect(conversion({ views: 0, submissions: 0 })).toBeNull();
    // A submission whose view was not counted (a script blocked) must not read as 200%.
    expect(conversion({ views: 1, submissions: 2 })).toBeNull();
  });
});
