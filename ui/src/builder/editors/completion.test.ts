import { describe, expect, it } from "vitest";
import { apply, complete, countable, type SchemaNames } from "./completion";

const schema: SchemaNames = {
  contact: ["email", "first_name", "plan", "<b>x</b>"],
  consent: ["email", "sms"],
  events: [
    { name: "cart_abandoned", properties: ["cart_id", "value"] },
    { name: "signed_up", properties: ["plan", "source"] },
  ],
};

describe("complete", () => {
  it("offers roots, then the fields of the root typed", () => {
    expect(complete("con", 3, schema)?.options).toEqual(["contact.", "consent."]);
    expect(complete("contact.pl", 10, schema)).toEqual({ from: 0, to: 10, options: ["contact.plan"] });
    expect(complete('contact.plan == "pro" and consent.', 34, schema)?.options).toEqual(["consent.email", "consent.sms"]);
  });

  it("offers the trigger event's own properties, else every event's", () => {
    expect(complete("event.", 6, schema, "cart_abandoned")?.options).toEqual(["event.cart_id", "event.value"]);
    expect(complete("trigger.", 8, schema)?.options).toEqual(["trigger.cart_id", "trigger.plan", "trigger.source", "trigger.value"]);
  });

  it("leaves out names a condition cannot write, and offers nothing inside a string", () => {
    expect(complete("contact.", 8, schema)?.options).toEqual(["contact.email", "contact.first_name", "contact.plan"]);
    expect(complete('contact.plan == "con', 20, schema)).toBeNull();
  });

  it("replaces the whole word at the caret", () => {
    const text = "contact.pl == 1";
    const found = complete(text, 9, schema)!;
    expect(apply(text, found, "contact.plan")).toEqual({ text: "contact.plan == 1", caret: 12 });
  });
});

describe("countable", () => {
  it("counts contact and consent conditions, not those reading the event", () => {
    expect(countable('contact.plan == "pro" and consent.email == "subscribed"')).toBe(true);
    expect(countable("event.value >= 100")).toBe(false);
    expect(countable('contact.note == "event.value"')).toBe(true);
  });
});
