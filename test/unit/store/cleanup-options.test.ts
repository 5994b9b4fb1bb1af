/** `deleteCompletedBefore`'s cutoff, `concurrency` and `segments`, checked before any request. */
import { ConfigurationError } from "../../../src";
import { BEFORE, cleanupSend } from "../../support/fake-cleanup";
import { rejection } from "../../support/caught";
import { scriptedSend } from "../../support/fake-send";
import { makeStore, NAME } from "../../support/unit-states";

describe("deleteCompletedBefore", () => {
  it("refuses an invalid Date", async () => {
    const { send } = scriptedSend();
    const error = await rejection(makeStore(send).deleteCompletedBefore(NAME, new Date(NaN)));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "options.invalid" });
    expect(send).not.toHaveBeenCalled();
  });

  it.each<[string, number | string]>([
    ["concurrency", 0],
    ["concurrency", 1001],
    ["concurrency", 1.5],
    ["concurrency", -4],
    ["concurrency", NaN],
    ["concurrency", "4"],
    ["segments", 0],
    ["segments", 1001],
    ["segments", 2.5],
    ["segments", Infinity],
    ["segments", "2"],
  ])(
    "refuses %s %p with ConfigurationError options.invalid, before any request",
    async (key, value) => {
      const { send } = scriptedSend();
      const error = await rejection(
        makeStore(send).deleteCompletedBefore(NAME, BEFORE, { [key]: value as number }),
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: "options.invalid" });
      expect(error.message).toContain(`${key} must be an integer from 1 to 1000`);
      expect(send).not.toHaveBeenCalled();
    },
  );

  it.each([1, 1000])("accepts %p as concurrency and as segments", async (value) => {
    const { send, calls } = cleanupSend([]);
    await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      concurrency: value,
      segments: value,
    });
    expect(calls).toHaveLength(value);
  });
});
