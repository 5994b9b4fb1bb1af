/**
 * Runs the CPU suite of bench/cpu.mjs and writes docs/benchmarks.md: machine, date, the
 * figures, and whether the targets are met. `npm run bench` builds first, then runs this.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { version as nodeVersion } from "node:process";
import { fileURLToPath } from "node:url";
import { runCpuSuite } from "./cpu.mjs";

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "benchmarks.md");

/** 3 rounds × 40 tasks × (150 ms measuring + 50 ms warm-up): about 25-30 s in all. */
const ROUNDS = 3;
const TIME_PER_TASK = 150;
const WARMUP_PER_TASK = 50;

/** Issue targets. */
const TARGET_SIZE_JSON = "2 KB"; // own CPU of insert/update ≤ JSON round trip
const TARGET_SIZE_FLOOR = "1 KB"; // store ≤ 1.5 × floor
const FLOOR_FACTOR = 1.5;
const TARGET_OPERATIONS = ["insert", "update"];

const us = (value) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
const ratio = (value) => `${value.toFixed(2)}×`;
const spread = (f) => `${us(f.p25)}–${us(f.p75)}`;
const row = (cells) => `| ${cells.join(" | ")} |`;
const table = (header, rows) =>
  [row(header), row(header.map(() => "---")), ...rows.map(row)].join("\n");

const machine = () => {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: nodeVersion,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(", "),
  };
};

/** The verdicts of the targets, with the figures they rest on. */
const verdicts = (results) => {
  const size = (label) => results.find((r) => r.label === label);
  const jsonSize = size(TARGET_SIZE_JSON);
  const floorSize = size(TARGET_SIZE_FLOOR);
  const pick = (s, operation) => s.operations.find((o) => o.operation === operation);
  const json = TARGET_OPERATIONS.map((operation) => {
    const { store, floor } = pick(jsonSize, operation);
    const own = store.p50 - floor.p50;
    return {
      operation,
      own,
      store: store.p50,
      reference: jsonSize.json.p50,
      met: own <= jsonSize.json.p50,
      strictMet: store.p50 <= jsonSize.json.p50,
    };
  });
  const floor = TARGET_OPERATIONS.map((operation) => {
    const { store, floor: f } = pick(floorSize, operation);
    return { operation, store: store.p50, floor: f.p50, met: store.p50 <= FLOOR_FACTOR * f.p50 };
  });
  return { json, floor, jsonSize, floorSize };
};

const yesNo = (met) => (met ? "**met**" : "**not met**");

const render = (results, info, startedAt, seconds) => {
  const v = verdicts(results);
  const states = table(
    [
      "State",
      "JSON of state",
      "Stored `state` attribute",
      "Line items",
      "Dates",
      "JSON round trip µs (p25–p75)",
      "JSON.stringify µs",
    ],
    results.map((r) => [
      r.label,
      `${r.jsonBytes} B`,
      `${r.storedStateBytes} B`,
      r.lineItems,
      r.dates,
      `${us(r.json.p50)} (${spread(r.json)})`,
      us(r.stringify.p50),
    ]),
  );
  const main = table(
    [
      "State",
      "Operation",
      "Store µs (p25–p75)",
      "Floor µs (p25–p75)",
      "Store ÷ floor",
      "Store ÷ JSON round trip",
      "Own (store − floor) ÷ JSON round trip",
    ],
    results.flatMap((r) =>
      r.operations.map(({ operation, store, floor }) => [
        r.label,
        operation,
        `${us(store.p50)} (${spread(store)})`,
        `${us(floor.p50)} (${spread(floor)})`,
        ratio(store.p50 / floor.p50),
        ratio(store.p50 / r.json.p50),
        ratio((store.p50 - floor.p50) / r.json.p50),
      ]),
    ),
  );
  const raw = table(
    ["State", "Task", "p50 µs", "p25 µs", "p75 µs", "p99 µs", "Samples", "Round medians µs"],
    results.flatMap((r) => [
      ...r.operations.flatMap(({ operation, store, floor }) => [
        [r.label, `${operation} (store)`, ...rawCells(store)],
        [r.label, `${operation} (floor)`, ...rawCells(floor)],
      ]),
      [r.label, "JSON round trip", ...rawCells(r.json)],
      [r.label, "JSON.stringify", ...rawCells(r.stringify)],
    ]),
  );

  const jsonLines = v.json.map(
    (t) =>
      `- ${t.operation}: own ${us(t.own)} µs (store ${us(t.store)} µs) vs JSON round trip ` +
      `${us(t.reference)} µs: ${yesNo(t.met)}` +
      (t.met && !t.strictMet ? " (the whole call, floor included, is still above)" : ""),
  );
  const floorLines = v.floor.map(
    (t) =>
      `- ${t.operation}: store ${us(t.store)} µs vs ${FLOOR_FACTOR} × floor = ` +
      `${us(FLOOR_FACTOR * t.floor)} µs (${ratio(t.store / t.floor)}): ${yesNo(t.met)}`,
  );
  const stringify1k = v.floorSize.stringify.p50;

  return `# Benchmarks

CPU cost of the store's own work, measured by \`npm run bench\` (\`bench/run.mjs\`, suite in
\`bench/cpu.mjs\`). Every request goes to a fake \`send\` that answers at once, so no DynamoDB
and no network time is included. This file is written by the benchmark; do not edit it by hand.

## Machine

- CPU: ${info.cpu}, ${info.cores} cores
- Memory: ${info.memoryGiB} GiB
- OS: ${info.os}
- Node.js: ${info.node}
- Load average at start (1, 5, 15 min): ${info.load}
- Date: ${startedAt.toISOString()} (run took ${seconds.toFixed(0)} s)

## States

Generated deterministically (\`makeState\` in \`bench/cpu.mjs\`): metadata, nested objects,
an array of line items (numbers, strings, booleans, null, tag arrays, nested dimensions), and
Dates at depths 1 to 5. "JSON of state" is \`JSON.stringify(state)\` of the whole state;
"Stored \`state\` attribute" is the JSON of the application part the store writes.

${states}

## Targets

Own CPU of insert and update of a ${TARGET_SIZE_JSON} state (store − floor, medians) no more
than the JSON round trip of that state:

${jsonLines.join("\n")}

Later target, store within ${FLOOR_FACTOR}× of the floor at ${TARGET_SIZE_FLOOR}:

${floorLines.join("\n")}

Why the second target is out of reach as measured:
the floor does no serialization at all,
while \`JSON.stringify\` of the ${TARGET_SIZE_FLOOR} state alone takes ${us(stringify1k)} µs,
${ratio(stringify1k / v.floor[0].floor)} the insert floor.
A store that writes the state as one JSON string cannot get within ${FLOOR_FACTOR}× of this floor;
the target needs a floor that includes the serialization, or a store that hands the state
to the client unserialized (which only moves the cost into the real client's marshalling).

## Store against floor and JSON round trip

Medians per operation, spread as the 25th–75th percentile of the samples.

${main}

## All tasks

${raw}

## How to read this

Every task is a tinybench task, run in ${ROUNDS} rounds of ${TIME_PER_TASK} ms (after
${WARMUP_PER_TASK} ms of warm-up), sizes interleaved; each sample is one call, timed with
\`process.hrtime.bigint\`, with the timer's own cost subtracted. A figure is the median of
the round whose median is the middle one, with that round's 25th–75th percentiles as its
spread; "Round medians" shows how far the rounds disagreed (a wide range means another
process was busy). The **store** rows call the store (\`getByCorrelationId\` in strong
mode: a read of the correlation item, then of the saga item). The **floor** rows send the
very same lib-dynamodb commands, built from inputs prepared once outside the timed function,
through the same fake \`send\`: the least any store must do per call (one command object and
one awaited promise; two for \`getByCorrelationId\`). The **JSON round trip** is
\`JSON.parse(JSON.stringify(state))\` of the same state, a reference for "about as much work
as copying the state once". _Store ÷ floor_ tells how much of a call is the store's own work;
_own ÷ JSON round trip_ (store minus floor, over the round trip) is what the first target
bounds. Figures are medians, so a garbage-collection pause shows in p99, not in the ratios.
Compare ratios rather than absolute times across machines, and expect a few percent of noise
between runs, more on a busy machine (see the load average above).
`;
};

const rawCells = (f) => [
  us(f.p50),
  us(f.p25),
  us(f.p75),
  us(f.p99),
  f.samples,
  `${us(f.roundMin)}–${us(f.roundMax)}`,
];

/** Formats with the project's Prettier when it is installed, so `npm run lint` stays green. */
const prettify = async (markdown) => {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(OUTPUT)) ?? {};
    return await prettier.format(markdown, { ...options, filepath: OUTPUT });
  } catch {
    return markdown;
  }
};

const main = async () => {
  const startedAt = new Date();
  const info = machine();
  console.log(`${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, Node ${info.node}`);
  const results = await runCpuSuite({
    rounds: ROUNDS,
    time: TIME_PER_TASK,
    warmupTime: WARMUP_PER_TASK,
    log: (line) => console.log(line),
  });
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const markdown = await prettify(render(results, info, startedAt, seconds));
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, markdown);

  const printable = markdown.slice(
    markdown.indexOf("## Targets"),
    markdown.indexOf("## All tasks"),
  );
  console.log(`\n${printable.trim()}\n\nWrote ${OUTPUT}`);
};

await main();
