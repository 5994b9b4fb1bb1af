/**
 * The demo's command line (commander): `npm start -- [options]`.
 *
 * @packageDocumentation
 */
import { Command, InvalidArgumentError } from "commander";

/** Orders of a run without `--orders`: about 15-25 s on a 2-core machine. */
export const DEFAULT_ORDERS = 200;

/** Deliveries handled at once without `--concurrency`. */
export const DEFAULT_CONCURRENCY = 16;

/** The demo's options. */
export interface DemoOptions {
  readonly orders: number;
  readonly concurrency: number;
  /** An existing DynamoDB; absent: the demo starts DynamoDB Local. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly keep: boolean;
  /** Seed of the workload's random choices. */
  readonly seed: number;
}

const integerFrom =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };

const url = (value: string): string => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected a URL such as http://localhost:8000.");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidArgumentError("expected an http:// or https:// URL.");
  }
  return value;
};

/** Parses `argv` (as `process.argv`); prints help or an error and exits on bad input. */
export const parseOptions = (argv: readonly string[]): DemoOptions => {
  const program = new Command()
    .name("npm start --")
    .description(
      "Runs an order-fulfilment saga workload through the DynamoDB saga store the way " +
        "saga-bus drives a store (concurrent messages, duplicates, out-of-order delivery), " +
        "verifies every saga, cleans up, and prints requests, capacity and timings.",
    )
    .option(
      "--orders <n>",
      "orders to run (4 messages each, plus duplicates)",
      integerFrom(1, 1_000_000),
      DEFAULT_ORDERS,
    )
    .option(
      "--concurrency <n>",
      "messages handled at the same time",
      integerFrom(1, 1024),
      DEFAULT_CONCURRENCY,
    )
    .option(
      "--endpoint <url>",
      "use an existing DynamoDB (e.g. http://localhost:8000) instead of starting DynamoDB " +
        "Local; the demo creates a uniquely named table there and deletes it at the end",
      url,
    )
    .option(
      "--region <region>",
      "AWS region (with --endpoint)",
      process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    )
    .option("--keep", "with --endpoint: keep the table instead of deleting it", false)
    .option(
      "--seed <n>",
      "seed of the workload's random choices, to repeat a run (default: random)",
      integerFrom(0, 2 ** 31 - 1),
    )
    .showHelpAfterError()
    .parse([...argv]);
  const opts = program.opts<{
    orders: number;
    concurrency: number;
    endpoint?: string;
    region: string;
    keep: boolean;
    seed?: number;
  }>();
  return {
    orders: opts.orders,
    concurrency: opts.concurrency,
    endpoint: opts.endpoint,
    region: opts.region,
    keep: opts.keep,
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
  };
};
