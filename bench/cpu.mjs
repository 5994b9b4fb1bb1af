/**
 * CPU benchmark of the store's own work: every request goes to a fake `send` that answers at
 * once with a canned value, so what is timed is validation, encoding/decoding, command
 * building and the store's plumbing, not DynamoDB or the network.
 *
 * For each state size (about 1 KB, 2 KB, 10 KB and 100 KB of JSON) it times, with tinybench:
 *
 * - the store: `insert`, `update`, `getById`, `getByCorrelationId` (strong consistency);
 * - the floor of each: the same fake `send` given the same lib-dynamodb command, built from
 *   an input prepared once outside the timed function (what any store must at least do);
 * - the reference: `JSON.parse(JSON.stringify(state))` of the same state, and, to show
 *   what no JSON-writing store can avoid, `JSON.stringify(state)` alone.
 *
 * `profileStore()` profiles `insert` and `update` with V8's sampling profiler and tells where
 * their time goes, by module and by source line.
 *
 * `runCpuSuite()` returns the figures; `node bench/cpu.mjs` prints them. `bench/run.mjs`
 * runs the suite and writes docs/benchmarks.md.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { argv } from "node:process";
import { fileURLToPath } from "node:url";
import { GetCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Bench } from "tinybench";
import { createDynamoDBSagaStore } from "../dist/esm/index.js";

/** The state sizes measured: JSON bytes of the whole state aimed at. */
export const SIZES = [
  { label: "1 KB", target: 1024 },
  { label: "2 KB", target: 2 * 1024 },
  { label: "10 KB", target: 10 * 1024 },
  { label: "100 KB", target: 100 * 1024 },
];

/** The store operations measured, in table order. */
export const OPERATIONS = ["insert", "update", "getById", "getByCorrelationId"];

const SAGA_NAME = "OrderSaga";
const TABLE_NAME = "bench-sagas";
const CORRELATION_ID = "order-4711";
const SAGA_ID = "3f0c1a9e-6b7d-4c52-9e1f-2a8b7c6d5e4f";
const T0 = Date.UTC(2025, 0, 15, 9, 30, 0, 0);

/** Small deterministic PRNG (mulberry32), so every run measures the same states. */
const prng = (seed) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

// prettier-ignore
const WORDS = [
  "alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "ivory", "jasper",
  "kelp", "lumen", "maple", "nova", "onyx", "pebble", "quartz", "river", "sierra", "tundra",
];

/**
 * A saga state with `lineItems` line items: nested objects, arrays, numbers, strings,
 * booleans, null, and Dates at depths 1 to 5 (`placedAt`, `customer.lastSeenAt`,
 * `items[i].reservedAt`, `payment.attempts[j].at`, `items[i].history[k].at`).
 */
export const makeState = (lineItems, version = 0) => {
  const random = prng(0x5a6a + lineItems);
  const int = (n) => Math.floor(random() * n);
  const word = () => WORDS[int(WORDS.length)];
  const money = (max) => Math.round(random() * max * 100) / 100;
  const at = (minutes) => new Date(T0 + minutes * 60_000 + int(1000));
  const items = [];
  for (let i = 0; i < lineItems; i++) {
    const quantity = 1 + int(5);
    const unitPrice = money(200);
    items.push({
      sku: `SKU-${String(10_000 + int(90_000))}`,
      name: `${word()} ${word()}`,
      quantity,
      unitPrice,
      discount: i % 3 === 0 ? null : money(10),
      giftWrap: random() < 0.2,
      tags: [word(), word()],
      dimensions: { widthCm: int(100), heightCm: int(100), weightKg: money(20) },
      reservedAt: i % 2 === 0 ? at(i) : null,
      history:
        i % 4 === 0
          ? [
              { at: at(i + 1), event: "reserved", by: null },
              { at: at(i + 2), event: "priced", by: word() },
            ]
          : [],
    });
  }
  const subtotal = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  return {
    metadata: {
      sagaId: SAGA_ID,
      version,
      createdAt: new Date(T0),
      updatedAt: new Date(T0 + version * 1000),
      isCompleted: false,
      traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      timeoutMs: null,
    },
    orderId: "ORD-2025-000123",
    status: "awaiting-payment",
    placedAt: at(-5),
    customer: {
      id: "cust-8842",
      name: "Ada Lovelace",
      vip: true,
      address: { street: "12 Analytical Way", city: "London", zip: "N1 9GU", country: "GB" },
      lastSeenAt: at(-60),
      notes: null,
    },
    payment: {
      method: "card",
      authorised: false,
      attempts: [{ at: at(-1), ok: false, code: "insufficient_funds" }],
    },
    items,
    totals: { subtotal: Math.round(subtotal * 100) / 100, shipping: 4.99, tax: null },
  };
};

const jsonBytes = (value) => Buffer.byteLength(JSON.stringify(value), "utf8");

const countDates = (value) => {
  if (value instanceof Date) return 1;
  if (typeof value !== "object" || value === null) return 0;
  let count = 0;
  for (const key in value) count += countDates(value[key]);
  return count;
};

/** The state whose JSON size is closest to `target` bytes (at least one line item). */
export const stateOfSize = (target) => {
  let lineItems = 1;
  while (jsonBytes(makeState(lineItems + 1)) <= target) lineItems++;
  const below = makeState(lineItems);
  const above = makeState(lineItems + 1);
  return Math.abs(jsonBytes(above) - target) < Math.abs(jsonBytes(below) - target)
    ? { lineItems: lineItems + 1, state: above }
    : { lineItems, state: below };
};

const withVersion = (state, version) => ({
  ...state,
  metadata: { ...state.metadata, version, updatedAt: new Date(T0 + version * 1000) },
});

const isGuardRead = (command) => command.input.ProjectionExpression === "sagaId";

/**
 * Everything one size needs: the states, the item exactly as the store writes it, the
 * command inputs the store builds (the floors send these), and the fake sends.
 */
export const prepareSize = async ({ label, target }) => {
  const { lineItems, state } = stateOfSize(target);
  const insertState = state; // version 0, as the runtime inserts
  const updateState = withVersion(state, 1); // version 1, expected 0: a start's update

  // One recording run of each operation captures the inputs the store sends.
  const sent = [];
  let answer = () => ({});
  const recordingSend = async (command) => {
    sent.push(command);
    return answer(command);
  };
  const recorder = createDynamoDBSagaStore({ send: recordingSend, tableName: TABLE_NAME });

  await recorder.insert(SAGA_NAME, CORRELATION_ID, insertState);
  const insertCommand = sent.pop();
  ok(insertCommand instanceof TransactWriteCommand, "insert sends a TransactWriteCommand");
  const insertInput = insertCommand.input;
  const storedItem = insertInput.TransactItems[0].Put.Item;

  await recorder.update(SAGA_NAME, updateState, 0);
  const updateCommand = sent.pop();
  ok(updateCommand instanceof UpdateCommand, "update sends an UpdateCommand");
  const updateInput = updateCommand.input;

  const guardAnswer = { Item: { sagaId: SAGA_ID } };
  const sagaAnswer = { Item: storedItem };
  answer = (command) => (isGuardRead(command) ? guardAnswer : sagaAnswer);

  const byId = await recorder.getById(SAGA_NAME, SAGA_ID);
  const getInput = sent.pop().input;
  deepStrictEqual(byId, insertState, "getById must return the inserted state, Dates included");

  const byCorrelation = await recorder.getByCorrelationId(SAGA_NAME, CORRELATION_ID);
  const sagaReadInput = sent.pop().input;
  const guardInput = sent.pop().input;
  ok(isGuardRead({ input: guardInput }), "strong lookup reads the correlation item first");
  deepStrictEqual(byCorrelation, insertState, "getByCorrelationId must return the state");
  ok(sent.length === 0, "no unexpected request");

  // The fake sends of the timed runs: a canned answer, at once.
  const writeSend = () => Promise.resolve({});
  const readSend = (command) => Promise.resolve(isGuardRead(command) ? guardAnswer : sagaAnswer);

  return {
    label,
    target,
    lineItems,
    jsonBytes: jsonBytes(state),
    storedStateBytes: Buffer.byteLength(storedItem.state, "utf8"),
    dates: countDates(state),
    insertState,
    updateState,
    writeStore: createDynamoDBSagaStore({ send: writeSend, tableName: TABLE_NAME }),
    readStore: createDynamoDBSagaStore({ send: readSend, tableName: TABLE_NAME }),
    writeSend,
    readSend,
    inputs: { insertInput, updateInput, getInput, guardInput, sagaReadInput },
  };
};

/** The timed functions of one size: `[operation, kind, fn]`. */
const tasksOf = (size) => {
  const { insertState, updateState, writeStore, readStore, writeSend, readSend, inputs } = size;
  const state = insertState;
  return [
    ["insert", "store", () => writeStore.insert(SAGA_NAME, CORRELATION_ID, insertState)],
    ["insert", "floor", () => writeSend(new TransactWriteCommand(inputs.insertInput))],
    ["update", "store", () => writeStore.update(SAGA_NAME, updateState, 0)],
    ["update", "floor", () => writeSend(new UpdateCommand(inputs.updateInput))],
    ["getById", "store", () => readStore.getById(SAGA_NAME, SAGA_ID)],
    ["getById", "floor", () => readSend(new GetCommand(inputs.getInput))],
    ["getByCorrelationId", "store", () => readStore.getByCorrelationId(SAGA_NAME, CORRELATION_ID)],
    [
      "getByCorrelationId",
      "floor",
      async () => {
        await readSend(new GetCommand(inputs.guardInput));
        return readSend(new GetCommand(inputs.sagaReadInput));
      },
    ],
    ["json", "reference", () => JSON.parse(JSON.stringify(state))],
    // Not a target: the serialization any store that writes the state as JSON must do.
    ["stringify", "reference", () => JSON.stringify(state)],
  ];
};

/** Linear-interpolated quantile of ascending samples (the method tinybench uses). */
const quantile = (sorted, q) => {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
};

/** Latency figures of a finished task, in microseconds. */
const figuresOf = (task) => {
  const { result } = task;
  if (result.state !== "completed") {
    throw new Error(`${task.name}: ${result.state}`, { cause: result.error });
  }
  const { latency } = result;
  const us = (ms) => ms * 1000;
  return {
    samples: latency.samplesCount,
    p25: us(quantile(latency.samples, 0.25)),
    p50: us(latency.p50),
    p75: us(latency.p75),
    p99: us(latency.p99),
    mean: us(latency.mean),
  };
};

/** The figures of the round whose median is the median of the rounds, with their range. */
const middleRound = (rounds) => {
  const sorted = [...rounds].sort((a, b) => a.p50 - b.p50);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  return { ...middle, roundMin: sorted[0].p50, roundMax: sorted[sorted.length - 1].p50 };
};

/**
 * Runs the suite: `rounds` passes over every size (40 tasks per pass), each task measured
 * for `time` ms after `warmupTime` ms of warm-up. Several short rounds, sizes interleaved,
 * keep a burst of load from another process from spoiling a whole figure: each task reports
 * the round with the median median (its p25/p75/p99 too), and the range of its round
 * medians. Returns one entry per size: its description and the figures of every task.
 */
export const runCpuSuite = async ({
  rounds = 3,
  time = 150,
  warmupTime = 50,
  log = () => {},
} = {}) => {
  const sizes = [];
  for (const spec of SIZES) {
    const size = await prepareSize(spec);
    log(
      `${size.label}: state JSON ${size.jsonBytes} B (${size.lineItems} line items, ` +
        `${size.dates} Dates), stored state attribute ${size.storedStateBytes} B`,
    );
    sizes.push({ size, tasks: tasksOf(size), rounds: new Map() });
  }

  for (let round = 1; round <= rounds; round++) {
    for (const entry of sizes) {
      log(`round ${round}/${rounds}: ${entry.size.label}`);
      const bench = new Bench({
        name: `${entry.size.label} round ${round}`,
        time,
        warmupTime,
        retainSamples: true,
        subtractTimerOverhead: true,
        timestampProvider: "hrtimeNow",
        throws: true,
      });
      for (const [operation, kind, fn] of entry.tasks) bench.add(`${operation} ${kind}`, fn);
      await bench.run();
      for (const task of bench.tasks) {
        const figures = entry.rounds.get(task.name) ?? [];
        figures.push(figuresOf(task));
        entry.rounds.set(task.name, figures);
      }
    }
  }

  return sizes.map(({ size, rounds: byTask }) => {
    const figure = (operation, kind) => middleRound(byTask.get(`${operation} ${kind}`));
    return {
      label: size.label,
      target: size.target,
      jsonBytes: size.jsonBytes,
      storedStateBytes: size.storedStateBytes,
      lineItems: size.lineItems,
      dates: size.dates,
      json: figure("json", "reference"),
      stringify: figure("stringify", "reference"),
      operations: OPERATIONS.map((operation) => ({
        operation,
        store: figure(operation, "store"),
        floor: figure(operation, "floor"),
      })),
    };
  });
};

/** Rows for console.table. */
export const tableRows = (results) =>
  results.flatMap((size) =>
    size.operations.map(({ operation, store, floor }) => ({
      size: `${size.label} (${size.jsonBytes} B)`,
      operation,
      "store µs": +store.p50.toFixed(2),
      "floor µs": +floor.p50.toFixed(2),
      "JSON rt µs": +size.json.p50.toFixed(2),
      "× floor": +(store.p50 / floor.p50).toFixed(2),
      "× JSON": +(store.p50 / size.json.p50).toFixed(2),
    })),
  );

/** Where a sample's self time is counted, by the file of its function. */
const MODULES = [
  [/\/dist\/esm\/marshal\.js$/, "marshal.js: state and metadata encoding"],
  [/\/dist\/esm\/commands\.js$/, "commands.js: command inputs"],
  [/\/dist\/esm\/(size\.js)$|^node:buffer$/, "size.js: item size check (Buffer.byteLength)"],
  [/\/dist\/esm\/keys\.js$/, "keys.js: key checks"],
  [/\/dist\/esm\/store\.js$/, "store.js: the store's functions"],
  [
    /\/dist\/esm\/(request|failures|core-link)\.js$|\/fp-ts\//,
    "request.js and fp-ts: request plumbing",
  ],
  [/\/dist\/esm\/codecs\.js$|\/io-ts\//, "io-ts: metadata validation"],
  [/\/@aws-sdk\/|\/@smithy\//, "lib-dynamodb: command objects"],
];

const moduleOf = ({ functionName, url }) => {
  if (url === "") {
    if (functionName === "(garbage collector)") return "garbage collection";
    return "V8 builtins and runtime, not attributed to a caller";
  }
  for (const [pattern, label] of MODULES) if (pattern.test(url)) return label;
  return "benchmark loop and Node.js internals";
};

const sourceLines = new Map();
const sourceLine = (url, line) => {
  if (!url.startsWith("file:")) return "";
  if (!sourceLines.has(url)) {
    try {
      sourceLines.set(url, readFileSync(fileURLToPath(url), "utf8").split("\n"));
    } catch {
      sourceLines.set(url, []);
    }
  }
  return (sourceLines.get(url)[line - 1] ?? "").trim();
};

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(dist|node_modules|bench)\//, "$1/");

/**
 * Samples the V8 CPU profiler while `fn` runs for `ms` milliseconds and sums the self time
 * of each sample by module and by source line (a native callee such as `JSON.stringify` has
 * no frame of its own: its time is counted on the line that calls it).
 */
const profileOne = async (session, fn, ms) => {
  await session.post("Profiler.start");
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    await fn();
    calls++;
  }
  const { profile } = await session.post("Profiler.stop");
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const samplesOf = new Map();
  for (const id of profile.samples) samplesOf.set(id, (samplesOf.get(id) ?? 0) + 1);
  const modules = new Map();
  const lines = new Map();
  let total = 0;
  for (const [id, samples] of samplesOf) {
    const { callFrame, positionTicks = [] } = nodes.get(id);
    total += samples;
    const module = moduleOf(callFrame);
    modules.set(module, (modules.get(module) ?? 0) + samples);
    // positionTicks split a node's samples by line (1-based); the rest stays on the function.
    let placed = 0;
    const add = (line, ticks) => {
      const key = `${callFrame.functionName || "(anonymous)"}|${callFrame.url}|${line}`;
      lines.set(key, (lines.get(key) ?? 0) + ticks);
    };
    for (const { line, ticks } of positionTicks) {
      add(line, ticks);
      placed += ticks;
    }
    if (samples > placed) add(callFrame.lineNumber + 1, samples - placed);
  }
  const share = (samples) => samples / total;
  const hotspots = [...lines]
    .map(([key, samples]) => {
      const [fn, url, line] = key.split("|");
      return {
        function: fn,
        location: url === "" ? "(native)" : `${shortUrl(url)}:${line}`,
        source: url === "" ? "" : sourceLine(url, Number(line)),
        share: share(samples),
      };
    })
    .sort((a, b) => b.share - a.share);
  const stringify = hotspots
    .filter(
      (h) => h.location.startsWith("dist/esm/marshal.js") && h.source.includes("JSON.stringify("),
    )
    .reduce((sum, h) => sum + h.share, 0);
  return {
    calls,
    usPerCall: (ms * 1000) / calls,
    samples: total,
    modules: [...modules]
      .map(([module, samples]) => ({ module, share: share(samples) }))
      .sort((a, b) => b.share - a.share),
    hotspots,
    stringifyShare: stringify,
  };
};

/**
 * Where the time of `insert` and `update` goes, at one state size: a CPU profile (V8's
 * sampling profiler, through `node:inspector`) of each operation run in a loop for `ms`
 * milliseconds after a warm-up, summed by module and by source line. The profiler's own
 * cost slows each call down, so read shares, not times.
 */
export const profileStore = async ({ label = "1 KB", ms = 1000, warmup = 20_000 } = {}) => {
  const spec = SIZES.find((s) => s.label === label);
  const size = await prepareSize(spec);
  const { writeStore, insertState, updateState } = size;
  const operations = [
    ["insert", () => writeStore.insert(SAGA_NAME, CORRELATION_ID, insertState)],
    ["update", () => writeStore.update(SAGA_NAME, updateState, 0)],
  ];
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 20 });
    const results = [];
    for (const [operation, fn] of operations) {
      for (let i = 0; i < warmup; i++) await fn();
      results.push({ operation, ...(await profileOne(session, fn, ms)) });
    }
    return { label, stateBytes: size.jsonBytes, operations: results };
  } finally {
    session.disconnect();
  }
};

if (argv[1] === fileURLToPath(import.meta.url)) {
  const results = await runCpuSuite({ log: (line) => console.log(line) });
  console.table(tableRows(results));
}
