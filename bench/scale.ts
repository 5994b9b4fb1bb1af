/**
 * `npm run bench:scale`: how fast one saga type can go before DynamoDB's per-partition limits
 * throttle it, for each table layout in {@link LAYOUTS}, written to docs/scale.md.
 *
 * For each layout: a fresh table on DynamoDB Local, two saga types run side by side by the
 * saga-bus-like message loop (each its own store, `send` wrapped by the trace recorder), then
 * the trace is replayed through the partition-heat model (`heat/model.ts`): the steady-state
 * bound per key, the replayed ceiling per saga type with and without split for heat, the
 * hottest keys, and how the items of a type spread over partition keys.
 *
 * A layout is one entry of {@link LAYOUTS}: its store and `createTable` option (`shards`).
 * Two to five minutes on two cores, most of it in the searches of the sharded layout.
 *
 * @packageDocumentation
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoDBSagaStore, createTable, deleteTable, sendVia } from "../src";
import { shardedLayout } from "../src/layout";
import { startDynamoDBLocal } from "../scripts/dynamodb-local";
import { withLocalClient } from "./local";
import { runMessageLoop, type LoopSagaDefinition } from "../workload/message-loop";
import { buildWorkload, seededRandom } from "../workload/deliveries";
import {
  MESSAGE_TYPES,
  orderSaga,
  type OrderMessage,
  type OrderState,
} from "../workload/order-saga";
import {
  DEFAULT_SPLIT,
  describeKey,
  keyLoads,
  largestKeyShares,
  replay,
  requestsOf,
  startOf,
  toReplay,
  periodOf,
  typeCeilings,
  warmupFor,
  type KeyLoad,
  type KeyShare,
  type ReplayResult,
  type SplitModel,
  type TypeCeiling,
} from "./heat/model";
import { createTraceRecorder, type TracedRequest } from "./heat/trace";
import { WINDOW } from "./workload";

/** One table layout to measure. */
interface LayoutCase {
  readonly label: string;
  /** The store's and `createTable`'s `shards` (1: the seed README's layout). */
  readonly shards: number;
}

/** The layouts measured, in this order; the first is the baseline of the ratios. */
const LAYOUTS: readonly LayoutCase[] = [
  { label: "default", shards: 1 },
  { label: "shards: 16", shards: 16 },
];

/** A saga type of the run: its definition, its sagas, its workers. */
interface SagaType {
  readonly definition: LoopSagaDefinition<OrderState, OrderMessage>;
  readonly sagas: number;
  readonly concurrency: number;
  readonly seed: number;
}

/** Two saga types on one table: the order saga, and the same saga under a second name. */
const SAGA_TYPES: readonly SagaType[] = [
  { definition: orderSaga, sagas: 600, concurrency: 24, seed: 20_261_130 },
  {
    definition: { ...orderSaga, name: "OrderAudit" },
    sagas: 200,
    concurrency: 8,
    seed: 20_261_131,
  },
];

/**
 * Split for heat as the ceiling search runs it: the assumed model with 2 seconds of heat
 * instead of minutes. The search asks where the partitions settle, not how long they take,
 * and a shorter heat keeps its replays short.
 */
const SETTLING_SPLIT: SplitModel = { ...DEFAULT_SPLIT, heatSeconds: 2 };

/** Virtual seconds a rate must hold without throttling. */
const SUSTAIN_SECONDS = 60;

/**
 * The search with split for heat: after its warm-up, half a minute at 3 % (its replays run
 * at many times the rate of the others).
 */
const SETTLED_SEARCH = { split: SETTLING_SPLIT, sustainSeconds: 30, precision: 0.03 } as const;

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "scale.md");

/**
 * The messages of `sagas` orders as a shop sends them: orders placed in the order of their
 * (sequential) ids, each placed as soon as it enters a window of {@link WINDOW} orders in
 * progress; the other messages of the orders in the window interleaved at random, each
 * order's in its own order. Seeded.
 */
const placedInOrder = (sagas: number, seed: number): OrderMessage[] => {
  const random = seededRandom(seed);
  const plans = [...buildWorkload({ orders: sagas, seed }).plans.values()];
  const open: OrderMessage[][] = [];
  const deliveries: OrderMessage[] = [];
  let next = 0;
  while (next < plans.length || open.length > 0) {
    while (open.length < WINDOW && next < plans.length) {
      const [placed, ...rest] = MESSAGE_TYPES.map(
        (type): OrderMessage => plans[next]!.messages[type],
      );
      next++;
      deliveries.push(placed!);
      open.push(rest);
    }
    const at = Math.floor(random() * open.length);
    deliveries.push(open[at]!.shift()!);
    if (open[at]!.length === 0) open.splice(at, 1);
  }
  return deliveries;
};

/** The trace of one layout's run. */
interface LayoutRun {
  readonly layout: LayoutCase;
  readonly requests: readonly TracedRequest[];
  /** Sagas completed, by saga type. */
  readonly sagas: ReadonlyMap<string, number>;
  readonly seconds: number;
}

/** Runs every saga type on a fresh table of `layout`, recording the trace. */
const runLayout = async (
  endpoint: string,
  layout: LayoutCase,
  types: readonly SagaType[] = SAGA_TYPES,
): Promise<LayoutRun> => {
  const tableName = `scale-${layout.shards}-${Date.now()}`;
  return withLocalClient(
    endpoint,
    async (client) => {
      await createTable(client, { tableName, shards: layout.shards });
      const docClient = DynamoDBDocumentClient.from(client);
      const recorder = createTraceRecorder({ layout: shardedLayout(layout.shards) });
      const started = performance.now();
      const completed = await Promise.all(
        types.map(async ({ definition, sagas, concurrency, seed }) => {
          const store = createDynamoDBSagaStore<OrderState>({
            send: recorder.wrap(sendVia(docClient), definition.name),
            tableName,
            shards: layout.shards,
          });
          const stats = await runMessageLoop({
            store,
            definition,
            deliveries: placedInOrder(sagas, seed),
            concurrency,
            retry: { maxAttempts: 30, maxRequeues: 30, maxDeadLetters: 1 },
          });
          if (stats.deadLettered.length > 0 || stats.sagasCompleted !== sagas) {
            throw new Error(
              `${layout.label}, ${definition.name}: ${stats.sagasCompleted} of ${sagas} sagas ` +
                `completed; dead letters: ${JSON.stringify(stats.deadLettered)}`,
            );
          }
          return [definition.name, sagas] as const;
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      await deleteTable(client, tableName);
      return { layout, requests: recorder.requests(), sagas: new Map(completed), seconds };
    },
    { httpAgent: { keepAlive: true, maxSockets: 64 } },
  );
};

/** What the model says about one layout's run. */
interface LayoutAnalysis {
  readonly run: LayoutRun;
  readonly ceilings: readonly TypeCeiling[];
  /** The hottest keys, each with its units per saga of the type that touched it. */
  readonly hottest: ReadonlyArray<{ readonly label: string; readonly load: KeyLoad }>;
  /** Per saga type: the key holding most of its items, per table and index. */
  readonly shares: ReadonlyMap<string, readonly KeyShare[]>;
  /** The trace replayed at the pace it was recorded, partitions idle before it. */
  readonly asRecorded: ReplayResult;
  /** Per saga type: a replay 10 % above its ceiling, without and with split for heat. */
  readonly above: ReadonlyMap<
    string,
    { readonly plain: ReplayResult; readonly split: ReplayResult }
  >;
}

/** A replay of one saga type's requests at `factor` times its ceiling. */
const replayAbove = (
  run: LayoutRun,
  label: string,
  ceiling: TypeCeiling,
  split: SplitModel | null,
  factor = 1.1,
): ReplayResult => {
  const start = startOf(run.requests);
  const period = periodOf(toReplay(run.requests, start));
  const settled = split === null ? ceiling.replayed : (ceiling.settled ?? ceiling.replayed);
  const warmup = warmupFor(split);
  const sustain = split === null ? SUSTAIN_SECONDS : SETTLED_SEARCH.sustainSeconds;
  return replay(toReplay(requestsOf(run.requests, label), start), {
    split,
    period,
    burstAtStart: false,
    speedUp: settled.speedUp * factor,
    until: warmup + sustain,
    countFrom: warmup,
  });
};

const analyse = (run: LayoutRun): LayoutAnalysis => {
  const start = startOf(run.requests);
  const period = periodOf(toReplay(run.requests, start));
  const ceilings = typeCeilings(run.requests, run.sagas, {
    sustainSeconds: SUSTAIN_SECONDS,
    settled: SETTLED_SEARCH,
  });
  const above = new Map(
    ceilings
      .filter((ceiling) => ceiling.label !== null)
      .map((ceiling) => [
        ceiling.label!,
        {
          plain: replayAbove(run, ceiling.label!, ceiling, null),
          split: replayAbove(run, ceiling.label!, ceiling, SETTLING_SPLIT),
        },
      ]),
  );
  return {
    run,
    ceilings,
    hottest: [...run.sagas]
      .flatMap(([label, sagas]) =>
        keyLoads(requestsOf(run.requests, label), sagas, undefined, start, period).map((load) => ({
          label,
          load,
        })),
      )
      .sort((a, b) => a.load.bound - b.load.bound)
      .slice(0, 8),
    shares: new Map(
      [...run.sagas.keys()].map((label) => [
        label,
        largestKeyShares(requestsOf(run.requests, label)),
      ]),
    ),
    asRecorded: replay(toReplay(run.requests)),
    above,
  };
};

// ---- rendering -------------------------------------------------------------------------

const number = (value: number, digits = 0): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

const rate = (value: number): string =>
  Number.isFinite(value) ? number(value, value < 100 ? 1 : 0) : "unbounded";

const target = (index: string | null): string => index ?? "table";

const keyName = (load: Pick<KeyLoad, "index" | "partitionKey">): string =>
  `${target(load.index)} \`${load.partitionKey}\``;

const typeName = (label: string | null): string =>
  label === null ? "all types together, in the run's proportions" : label;

const throttledKeys = (result: ReplayResult): string => {
  const keys = [...result.throttledByKey]
    .sort((a, b) => b[1].read + b[1].write - (a[1].read + a[1].write))
    .slice(0, 3)
    .map(([key, counts]) => {
      const { index, partitionKey } = describeKey(key);
      const kinds = [counts.write > 0 ? "writes" : "", counts.read > 0 ? "reads" : ""]
        .filter((kind) => kind !== "")
        .join(" and ");
      return `${target(index)} \`${partitionKey}\` (${kinds})`;
    });
  return keys.length === 0 ? "nothing" : keys.join(", ");
};

const ceilingTable = (analysis: LayoutAnalysis): string => {
  const rows = analysis.ceilings.map((ceiling) =>
    [
      typeName(ceiling.label),
      number(ceiling.sagas),
      rate(ceiling.recordedRate),
      `${number(ceiling.unitsPerSaga.write, 1)} / ${number(ceiling.unitsPerSaga.read, 1)}`,
      `${rate(ceiling.bound.bound)} (${keyName(ceiling.bound)}, ${ceiling.bound.kind}s)`,
      `**${rate(ceiling.replayed.sagasPerSecond)}**`,
      ceiling.settled === null ? "" : rate(ceiling.settled.sagasPerSecond),
    ].join(" | "),
  );
  return [
    "| Saga type | Sagas in the run | Rate of the run (sagas/s) | WCU / RCU per saga, all keys | Steady-state bound (sagas/s, binding key) | Replayed ceiling (sagas/s) | With split for heat settled |",
    "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ...rows.map((row) => `| ${row} |`),
  ].join("\n");
};

/** Keys by name, the first few of a long list. */
const keyList = (keys: readonly string[], shown = 4): string => {
  const names = keys.map((key) => {
    const { index, partitionKey } = describeKey(key);
    return `${target(index)} \`${partitionKey}\``;
  });
  return names.length <= shown
    ? names.join(", ")
    : `${names.length} keys (${names.slice(0, shown).join(", ")}, …)`;
};

const aboveLines = (analysis: LayoutAnalysis): string =>
  [...analysis.above]
    .map(
      ([label, { plain, split }]) =>
        `- ${label}, 10 % above its replayed ceiling: ${number(plain.throttled)} of ` +
        `${number(plain.requests)} requests throttled in a minute, on ${throttledKeys(plain)}. ` +
        `With split for heat, 10 % above its settled ceiling: ${number(split.splits.length)} splits; ` +
        `throttled on ${throttledKeys(split)}` +
        (split.monotonicKeys.length === 0
          ? "."
          : `; refused to split, monotonic sort keys: ${keyList(split.monotonicKeys)}.`),
    )
    .join("\n");

const hottestTable = (analysis: LayoutAnalysis): string =>
  [
    "| Key | Kind | Saga type | Units per saga of the type | Peak in one second of the run | Sagas/s of the type at the key's limit |",
    "| --- | --- | --- | ---: | ---: | ---: |",
    ...analysis.hottest.map(
      ({ label, load }) =>
        `| ${keyName(load)} | ${load.kind} | ${label} | ${number(load.unitsPerSaga, 2)} | ${number(load.peakPerSecond)} | ${rate(load.bound)} |`,
    ),
  ].join("\n");

const shareLines = (analysis: LayoutAnalysis): string => {
  const { shards } = analysis.run.layout;
  return [...analysis.shares]
    .map(([label, shares]) => {
      const parts = shares.map(
        (share) =>
          `${target(share.index)} ${number(share.share * 100, 1)} % (\`${share.partitionKey}\`, ${number(share.items)} of ${number(share.totalItems)})`,
      );
      return (
        `- ${label}: ${parts.join("; ")}` +
        (shards > 1 ? `; 2/N = ${number(200 / shards, 1)} %.` : ".")
      );
    })
    .join("\n");
};

const layoutSection = (analysis: LayoutAnalysis): string => {
  const { run } = analysis;
  const requests = run.requests.length;
  return `## Layout: ${run.layout.label}

The run: ${number(requests)} requests in ${number(run.seconds, 1)} s on DynamoDB Local. Replayed at that pace, partitions idle before it, the model throttles ${number(analysis.asRecorded.throttled)} of them${analysis.asRecorded.throttled === 0 ? "" : `, on ${throttledKeys(analysis.asRecorded)}`}.

${ceilingTable(analysis)}

${aboveLines(analysis)}

### Hottest keys

${hottestTable(analysis)}

### Largest share of one type's items under one partition key

Distinct items each type wrote, by table and index, and the key holding most of them:

${shareLines(analysis)}
`;
};

const ratioSection = (analyses: readonly LayoutAnalysis[]): string => {
  const [base, ...others] = analyses;
  if (base === undefined || others.length === 0) {
    return "## Layouts compared\n\nOnly one layout was measured: add another to `LAYOUTS` in bench/scale.ts.\n";
  }
  const rows = others.flatMap((other) =>
    other.ceilings.map((ceiling) => {
      const baseline = base.ceilings.find((candidate) => candidate.label === ceiling.label);
      if (baseline === undefined) return "";
      const ratio = (a: number, b: number) =>
        Number.isFinite(a) && b > 0 ? `${number(a / b, 1)}×` : "n/a";
      return `| ${other.run.layout.label} | ${typeName(ceiling.label)} | ${ratio(ceiling.replayed.sagasPerSecond, baseline.replayed.sagasPerSecond)} | ${ratio(ceiling.bound.bound, baseline.bound.bound)} | ${ceiling.settled && baseline.settled ? ratio(ceiling.settled.sagasPerSecond, baseline.settled.sagasPerSecond) : ""} |`;
    }),
  );
  return `## Layouts compared

Each layout's ceiling over the ${base.run.layout.label} layout's, per saga type (issue 14 asks
for at least 10× with \`shards: 16\`):

| Layout | Saga type | Replayed ceiling | Steady-state bound | With split for heat |
| --- | --- | ---: | ---: | ---: |
${rows.filter((row) => row !== "").join("\n")}
`;
};

/** The busiest key of one kind for a saga type in the table itself (its own units per saga). */
const tableLoad = (analysis: LayoutAnalysis, label: string, kind: "read" | "write") => {
  const start = startOf(analysis.run.requests);
  const period = periodOf(toReplay(analysis.run.requests, start));
  return keyLoads(
    requestsOf(analysis.run.requests, label),
    analysis.run.sagas.get(label) ?? 1,
    undefined,
    start,
    period,
  ).find((load) => load.index === null && load.kind === kind);
};

/** The largest saga item a type wrote (bytes, as DynamoDB counts them). */
const largestItem = (run: LayoutRun, label: string): number =>
  Math.max(
    0,
    ...requestsOf(run.requests, label).flatMap((request) =>
      request.touches
        .filter((touch) => touch.index === null && touch.kind === "write")
        .map((touch) => touch.bytes),
    ),
  );

const readingSection = (analyses: readonly LayoutAnalysis[]): string => {
  const [base, ...others] = analyses;
  if (base === undefined) return "";
  const [first] = base.run.sagas.keys();
  const label = first!;
  const writes = tableLoad(base, label, "write");
  const reads = tableLoad(base, label, "read");
  const perType = base.ceilings.filter((ceiling) => ceiling.label !== null);
  const settled = perType.map((ceiling) => rate(ceiling.settled?.sagasPerSecond ?? NaN));
  const lines = [
    "## Reading the numbers",
    "",
    `- **Writes bind first.** In the ${base.run.layout.label} layout each ${label} saga (its item up ` +
      `to ${number(largestItem(base.run, label))} bytes, written five times: an insert, in a ` +
      `transaction that costs twice, and four updates; read twice per message, strongly ` +
      `consistent) costs its type's table key ${number(writes?.unitsPerSaga ?? NaN, 1)} write ` +
      `units and ${number(reads?.unitsPerSaga ?? NaN, 1)} read units, so writes reach 1,000 units ` +
      `a second (at ${rate(writes?.bound ?? NaN)} sagas/s) long before reads reach 3,000 (at ` +
      `${rate(reads?.bound ?? NaN)}).`,
    `- **Split for heat would not go far.** With the assumed split model, the ${base.run.layout.label} ` +
      `layout settles at ${settled.join(" and ")} sagas/s for ${perType.map((c) => c.label).join(" and ")}: the ` +
      "saga items' random ids split, but the correlation items (`CORR#<order id>`) and the " +
      "correlation index entries follow sequential order ids, a monotonic sort key that the model, " +
      "like DynamoDB, does not split; at 2 write units per saga (a transactional put) they cap a " +
      "type near 500 sagas/s. And the split takes minutes of throttling to happen.",
  ];
  for (const other of others) {
    const { shards } = other.run.layout;
    const ratios = other.ceilings
      .filter((ceiling) => ceiling.label !== null)
      .map((ceiling) => {
        const baseline = perType.find((candidate) => candidate.label === ceiling.label);
        return `${ceiling.label} ${rate(ceiling.replayed.sagasPerSecond)} (${number(
          ceiling.replayed.sagasPerSecond / (baseline?.replayed.sagasPerSecond ?? NaN),
          1,
        )}×)`;
      });
    const tableShares = [...other.shares.values()].flatMap((shares) =>
      shares.filter((share) => share.index === null).map((share) => share.share),
    );
    const unevenness = Math.max(...tableShares) * shards;
    lines.push(
      `- **${other.run.layout.label}.** Each key carries about 1/${shards} of a type's units: ` +
        `replayed ceilings ${ratios.join(", ")}. The hash spreads sequential ids as well as ` +
        `random ones (the busiest table key held ${number(unevenness, 2)}× its 1/${shards} share ` +
        "of a type's items); within a shard the correlation ids still grow, so split for heat " +
        "still cannot spread them. The split column of a sharded layout is the least reliable: " +
        "a shard holds a few dozen of a type's items per pass of the trace, and under 24 the " +
        "model cannot tell sequential ids from random ones and lets them split (a type with few " +
        "sagas in the run then settles higher than it should).",
      `- **Choosing N.** For a target rate T sagas/s of one saga type, take N ≥ T × W × u / 1,000, ` +
        `where W is the type's write units per saga on its table key in the ${base.run.layout.label} ` +
        `layout (${number(writes?.unitsPerSaga ?? NaN, 1)} here; it grows with the state's size) ` +
        `and u the hash's unevenness (${number(unevenness, 2)} here; less with more sagas), and ` +
        `leave headroom for bursts, which the per-partition limit does not absorb: ${number(1000)} ` +
        `sagas/s of this saga needs N ≥ ${number(Math.ceil(((writes?.unitsPerSaga ?? NaN) * unevenness * 1000) / 1000))}. ` +
        "What N costs: listing a type (`findByName`, `findAllByName`) queries N partition keys " +
        "per page and merges them; point operations stay one request each, with the same capacity.",
    );
  }
  return lines.join("\n") + "\n";
};

const render = (analyses: readonly LayoutAnalysis[], machine: string): string => {
  const types = SAGA_TYPES.map(
    (type) => `${type.definition.name} (${number(type.sagas)} sagas, ${type.concurrency} workers)`,
  ).join(" and ");
  return `# Scale: how fast one saga type can go

<!-- Written by \`npm run bench:scale\` (bench/scale.ts); edit the generator, not this file. -->

DynamoDB serves at most 1,000 write units and 3,000 read units per second from one partition,
for a table and for each of its global secondary indexes alike. Everything the store writes for
one saga type shares one partition key value in the default layout, so that limit caps how many
sagas of one type can run per second, however much capacity the table has. This page gives the
partition-heat model's answer for each layout, from a real run on DynamoDB Local.

Generated on ${new Date().toISOString().slice(0, 10)} on ${machine}.

**These are predictions of a model that has not been calibrated against AWS.** DynamoDB Local
enforces no throughput limit; it only reports the capacity units each request consumed. The
ceilings below come from replaying that record through the model.

## How it was measured

- **The run.** For each layout, a fresh table on DynamoDB Local (in memory) and two saga types
  run side by side by the saga-bus-like message loop (workload/message-loop.ts): ${types}.
  Each saga is the demo's order saga (insert, then four updates, the last completing it; every
  delivery looks the saga up by correlation id first, strongly consistent). Orders are placed in
  the order of their sequential ids (\`order-00001\`, …), as a shop places them: each as it
  enters a window of ${WINDOW} orders in progress per type, whose other messages are interleaved
  at random, each order's in its own order. A first, unmeasured run of
  100 sagas per type warms DynamoDB Local up.
- **The trace.** A \`send\` wrapper (bench/heat/trace.ts) records every request: each item and
  index entry it reads or writes (table or index, partition key, sort key, size) and the units
  DynamoDB Local reported (\`ReturnConsumedCapacity: "INDEXES"\`), shared over the request's
  items by their size. Index entries are derived from the layout's index definitions.
- **The model.** bench/heat/model.ts replays the trace on a virtual clock through a pair of
  token buckets (reads, writes) per partition key value, of the table and of each index:
  - the **steady-state bound** of a key is its limit divided by its units per saga; the lowest
    over all keys bounds the type (burst capacity is finite, so any higher rate throttles once
    it is spent);
  - the **replayed ceiling** is the highest rate (the trace's time axis sped up or slowed down,
    repeated) that runs ${SUSTAIN_SECONDS} virtual seconds without a throttled request, partitions
    starting with one second of capacity and no burst credit; bisection to 1 %. It sits a little
    above the bound when the trace is smooth (one second of capacity spread over a minute) and
    below it when the trace is bursty;
  - **with split for heat settled**: the same search with the split model on, throttles counted
    only after a warm-up long enough for every splittable key to split.

## Assumptions, and where they come from

- A partition serves at most 3,000 read units and 1,000 write units per second, in on-demand and
  provisioned mode, for a table and for each global secondary index; adaptive capacity lends a
  hot partition capacity but never past that
  ([Burst and adaptive capacity](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/burst-adaptive-capacity.html);
  [Designing partition keys to distribute your workload](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html)).
  The model gives every partition key value a partition of its own, the best case that adaptive
  capacity reaches by isolating hot items.
- Burst capacity keeps up to 300 seconds of a partition's unused capacity (same page), but it
  cannot lift a partition past the per-partition limit
  ([How does DynamoDB handle spiky workloads in short intervals?](https://repost.aws/knowledge-center/dynamodb-spiky-workloads-short-intervals)).
  The model has a burst bucket (300 s of the partition's allotment) and a cap bucket (one second
  of the limit). On demand the allotment is the limit, so burst never raises a hot key's ceiling.
- A write whose index partition cannot take it is throttled on the table too (back-pressure;
  [Why is my DynamoDB table being throttled by its GSI?](https://repost.aws/knowledge-center/dynamodb-gsi-throttling-table);
  [GSI write throttling and back-pressure](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/gsi-throttling.html)).
  A request is admitted while every partition it touches has a positive balance, then charged
  in full; a throttled request is charged nothing.
- Capacity units per request are DynamoDB Local's reports; their rules (1 write unit per KB,
  twice that in a transaction; 1 read unit per 4 KB strongly consistent) are AWS's
  ([Read and write operations](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)).
  A failed condition, which reports no units, is charged by those rules.
- Split for heat: DynamoDB may split a hot partition, even the items of one partition key value,
  by sort-key range after sustained heat, but that does not help writes that follow a
  monotonically increasing sort key, nor a single hot item
  ([Scaling DynamoDB, part 2](https://aws.amazon.com/blogs/database/part-2-scaling-dynamodb-how-partitions-hot-keys-and-split-for-heat-impact-performance/),
  [part 3](https://aws.amazon.com/blogs/database/part-3-scaling-dynamodb-how-partitions-hot-keys-and-split-for-heat-impact-performance/);
  [Amazon DynamoDB: a scalable, predictably performant, and fully managed NoSQL database service, USENIX ATC 2022](https://www.usenix.org/conference/atc22/presentation/elhemali)).
  How long the heat must last and how far one key can split are not documented. The model
  assumes a range is hot when it uses ${number(DEFAULT_SPLIT.heatShare * 100)} % of a limit (or throttles) every second for
  ${DEFAULT_SPLIT.heatSeconds} s (${SETTLING_SPLIT.heatSeconds} s in the search, which only asks where the splits settle), and splits it at
  the median sort key of the traffic it sampled, up to ${DEFAULT_SPLIT.maxRangesPerKey} ranges per key, but never inside a
  family of sort keys (\`CORR#\`, \`ID#\`: up to the first \`#\`) whose writes in the trace grow
  monotonically (the last third of its items, in the order they were first written, sort above
  the first third, or below it, in ${number(DEFAULT_SPLIT.monotonicShare * 100)} % of their pairs): such a family is split off at one
  of its ends, or, alone in its range, not at all. When the search repeats the trace, a monotonic family's keys keep growing from pass to
  pass, as sequential ids do.
- Sharding: a calculated suffix (a hash of the id, modulo N) spreads writes and keeps point
  reads to one request; listing then reads the N partition keys
  ([Using write sharding to distribute workloads evenly](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-sharding.html)).

${analyses.map(layoutSection).join("\n")}
${ratioSection(analyses)}
${readingSection(analyses)}
## What the model does not know

- **It is not calibrated against AWS.** No run on AWS has checked these ceilings; DynamoDB Local
  throttles nothing and may count units differently from AWS (it charges the correlation index
  entry of a transactional insert 2 units, where the rule for index writes gives 1).
- Keys that share a partition share its limit; the model gives every key its own. A table with
  many busy keys may throttle earlier until adaptive capacity isolates the hot ones.
- Adaptive capacity and split for heat take time, and their timing, thresholds and extent are
  undocumented: the split parameters are guesses, and the "settled" ceilings ignore how long
  settling takes.
- Table-level and account-level limits are not modelled: an on-demand table may throttle
  traffic above twice its previous peak within 30 minutes while its capacity grows, and quotas
  cap a table's total throughput.
- Eventually consistent reads may be served by any replica; AWS has measured more than 3,000
  read units a second from one partition that way (part 2 above). The store's default reads are
  strongly consistent, which the model charges against the limit.
- The replay does not retry throttled requests (a real client would, adding load), and the run's
  pace is DynamoDB Local's on ${os.cpus().length} cores, sped up or slowed down uniformly: the
  burstiness of a real fleet of workers is not in it.
- Item sizes are the demo saga's; a larger state costs more write units per saga and lowers
  every ceiling in proportion.
`;
};

const main = async (): Promise<void> => {
  const machine = `${os.cpus()[0]?.model.trim() ?? "unknown CPU"} × ${os.cpus().length}, Node.js ${process.version}`;
  const local = await startDynamoDBLocal();
  const runs: LayoutRun[] = [];
  try {
    // A first, unmeasured run: DynamoDB Local's JVM warms up on it, not on the first layout.
    console.log("Warming DynamoDB Local up…");
    await runLayout(
      local.endpoint,
      LAYOUTS[0]!,
      SAGA_TYPES.map((type) => ({ ...type, sagas: 100 })),
    );
    for (const layout of LAYOUTS) {
      console.log(`Running ${layout.label}…`);
      runs.push(await runLayout(local.endpoint, layout));
    }
  } finally {
    await local.stop();
  }
  const analyses = runs.map((run) => {
    console.log(`Modelling ${run.layout.label}…`);
    const started = performance.now();
    const analysis = analyse(run);
    for (const ceiling of analysis.ceilings) {
      console.log(
        `  ${typeName(ceiling.label)}: bound ${rate(ceiling.bound.bound)}, replayed ${rate(ceiling.replayed.sagasPerSecond)}, ` +
          `settled ${ceiling.settled === null ? "-" : rate(ceiling.settled.sagasPerSecond)} sagas/s`,
      );
    }
    console.log(`  (${number((performance.now() - started) / 1000, 1)} s)`);
    return analysis;
  });
  // Formatted as `npm run lint` checks it, so that a fresh run leaves the tree clean.
  const options = await resolveConfig(OUTPUT);
  writeFileSync(
    OUTPUT,
    await format(render(analyses, machine), { ...options, parser: "markdown" }),
  );
  console.log(`Wrote ${OUTPUT}`);
};

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
