/**
 * The partition-heat model: a trace (`trace.ts`) replayed on a virtual clock through one pair
 * of token buckets (reads, writes) per partition key value, of the table and of each global
 * secondary index, with DynamoDB's documented per-partition limits.
 *
 * - **Limits.** A partition serves at most 3,000 read units and 1,000 write units per second;
 *   adaptive capacity moves capacity to a hot partition but never past that (developer guide,
 *   "Burst and adaptive capacity"; "Designing partition keys to distribute your workload").
 *   The model gives every key value a partition of its own: the best case, which adaptive
 *   capacity reaches by isolating hot items.
 * - **Burst.** DynamoDB keeps up to 300 seconds of a partition's unused capacity for bursts
 *   (same guide page), but burst capacity cannot lift a partition past the per-partition limit
 *   (AWS Knowledge Center, "How does DynamoDB handle spiky workloads in short intervals?"). So
 *   each partition has two buckets: a burst bucket that earns the partition's allotment per
 *   second and keeps up to `burstSeconds` of it, and a cap bucket that earns the limit and keeps
 *   one second of it. On demand, the allotment is the limit and the cap bucket decides; the
 *   burst bucket matters only for a provisioned allotment below the limit.
 * - **Admission.** A request is admitted while every partition it touches has a positive
 *   balance in both buckets, and is then charged in full (the balance may go below zero: a read
 *   is charged by what it read). A throttled request is charged nothing. One request touching a
 *   throttled partition is throttled whole, as a write is when one of its indexes cannot take it
 *   (Knowledge Center, "Why is my DynamoDB table being throttled by its GSI?").
 * - **Split for heat** (optional). A key's partition covers its whole sort-key range. A range
 *   that has been hot (used at least `heatShare` of a limit, or throttled) for `heatSeconds` in a
 *   row splits, each half with full limits, up to `maxRangesPerKey` ranges: at the median sort
 *   key of the traffic it sampled over that time, but never inside a family of sort keys
 *   (`CORR#`, `ID#`: up to the first `#`) whose writes follow a monotonic sort key, where new
 *   items, and the reads that follow them, would all stay in one half. Such a family is split
 *   off at one of its ends or, alone in its range, not at all; one hot item is not split either
 *   (AWS Database Blog, "Scaling DynamoDB: how partitions, hot keys and split for heat impact
 *   performance", parts 2 and 3). Monotonic families are told from one pass of the trace, and
 *   keep growing when the trace repeats. How long the heat must last and how far a key may
 *   split are not documented: both are parameters.
 *
 * Sort keys compare as JavaScript strings (UTF-16 code units), which is DynamoDB's byte order
 * for the ASCII keys the store writes.
 *
 * The model has not been calibrated against AWS.
 *
 * @packageDocumentation
 */
import type { AccessKind, Touch, TracedRequest } from "./trace";

/** Units per second, of reads and of writes. */
export interface Throughput {
  readonly read: number;
  readonly write: number;
}

/** The most one partition serves per second, on demand and provisioned alike. */
export const PARTITION_LIMITS: Throughput = { read: 3000, write: 1000 };

/** Seconds of unused capacity a partition keeps for bursts. */
export const BURST_SECONDS = 300;

/** Parameters of the split-for-heat model (undocumented by AWS: assumptions). */
export interface SplitModel {
  /** Seconds in a row a range must be hot before it splits. */
  readonly heatSeconds: number;
  /** Share of a limit used in one second that counts as hot. */
  readonly heatShare: number;
  /** Ranges one partition key value may split into. */
  readonly maxRangesPerKey: number;
  /**
   * Accesses (and, separately, writes) each range samples over the heat period, at even
   * times, to choose a split point and to tell a monotonic key.
   */
  readonly sampleSize: number;
  /**
   * Share of pairs (an item of the first third of a family's items, in the order they were
   * first written, and one of the last third) in sort order, or in reverse order, from which
   * the family counts as monotonic.
   */
  readonly monotonicShare: number;
}

/** Assumed values: "minutes" of heat, 16 ranges at most. */
export const DEFAULT_SPLIT: SplitModel = {
  heatSeconds: 300,
  heatShare: 0.8,
  maxRangesPerKey: 16,
  sampleSize: 200,
  monotonicShare: 0.9,
};

/** What the buckets of every partition are. */
export interface ModelOptions {
  /** Per-partition limits. Default {@link PARTITION_LIMITS}. */
  readonly limits?: Throughput;
  /** What a partition earns per second (a provisioned share). Default: the limits (on demand). */
  readonly allotment?: Throughput;
  /** Seconds of unused allotment kept for bursts. Default {@link BURST_SECONDS}. */
  readonly burstSeconds?: number;
  /**
   * Whether partitions start with a full burst bucket (idle for `burstSeconds`), or with one
   * second of their allotment (a partition that has been busy). Default true.
   */
  readonly burstAtStart?: boolean;
  /** Split for heat; `null` (default): partitions never split. */
  readonly split?: SplitModel | null;
}

/** One partition key a request touches, with the units it costs there. */
export interface GateTouch {
  /** The partition key value with its table or index (`heatKey`). */
  readonly key: string;
  readonly kind: AccessKind;
  readonly units: number;
  readonly sortKey: string | null;
}

/** A key range that split. */
export interface SplitEvent {
  /** Seconds on the virtual clock. */
  readonly at: number;
  readonly key: string;
  /** The lowest sort key of the new upper range. */
  readonly point: string;
  /** Ranges of the key after the split. */
  readonly ranges: number;
}

/** The buckets of every partition key, as requests arrive. */
export interface Gate {
  /**
   * Admits a request at `at` seconds (not before the previous one) and charges its units, or
   * refuses it: the indexes of the touches whose partition had no capacity (empty: admitted).
   */
  admit(at: number, touches: readonly GateTouch[]): number[];
  /** Splits so far, in order. */
  splits(): readonly SplitEvent[];
  /** Keys a split was refused for, because their writes follow a monotonic sort key. */
  monotonicKeys(): ReadonlySet<string>;
}

const SEPARATOR = "\u0001";

/** The key a touch's partition is known by: its table, its index and its partition key value. */
export const heatKey = (touch: Pick<Touch, "table" | "index" | "partitionKey">): string =>
  [touch.table, touch.index ?? "", touch.partitionKey ?? ""].join(SEPARATOR);

/** The parts of a {@link heatKey}. */
export const describeKey = (
  key: string,
): { readonly table: string; readonly index: string | null; readonly partitionKey: string } => {
  const [table = "", index = "", partitionKey = ""] = key.split(SEPARATOR);
  return { table, index: index === "" ? null : index, partitionKey };
};

interface Bucket {
  /** Burst balance: earns the allotment, keeps `burstSeconds` of it. */
  burst: number;
  /** Cap balance: earns the limit, keeps one second of it. */
  cap: number;
  last: number;
}

/** Recent sort keys (and their units), oldest first once full. */
interface Ring {
  readonly keys: string[];
  readonly units: number[];
  next: number;
}

interface Range {
  /** Lowest sort key of the range (`null`: unbounded). */
  readonly lower: string | null;
  readonly read: Bucket;
  readonly write: Bucket;
  /** The current one-second window: its second, its units, whether it throttled. */
  second: number;
  readUnits: number;
  writeUnits: number;
  throttled: boolean;
  /** Hot seconds in a row. */
  hotRun: number;
  /** Samples of the traffic and of the writes, taken at even times over the heat period. */
  readonly traffic: Ring;
  readonly writes: Ring;
  trafficSampledAt: number;
  writeSampledAt: number;
}

const ring = (): Ring => ({ keys: [], units: [], next: 0 });

const push = (into: Ring, size: number, key: string, units: number): void => {
  if (into.keys.length < size) {
    into.keys.push(key);
    into.units.push(units);
    return;
  }
  into.keys[into.next] = key;
  into.units[into.next] = units;
  into.next = (into.next + 1) % size;
};

/** The ring's entries, oldest first. */
const chronological = (from: Ring): Array<{ key: string; units: number }> => {
  const entries = from.keys.map((key, i) => ({ key, units: from.units[i]! }));
  return [...entries.slice(from.next), ...entries.slice(0, from.next)];
};

const ringOf = (entries: ReadonlyArray<{ key: string; units: number }>, size: number): Ring => {
  const built = ring();
  for (const entry of entries) push(built, size, entry.key, entry.units);
  return built;
};

/**
 * Where to split a range: the weighted median of its recent traffic by sort key, moved past
 * the lowest key so that the lower half is not empty; `null` when one item carries it all.
 */
export const splitPoint = (
  traffic: ReadonlyArray<{ readonly key: string; readonly units: number }>,
): string | null => {
  const sorted = [...traffic].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const total = sorted.reduce((sum, entry) => sum + entry.units, 0);
  if (sorted.length === 0) return null;
  let seen = 0;
  let point = sorted[sorted.length - 1]!.key;
  for (const entry of sorted) {
    seen += entry.units;
    if (seen >= total / 2) {
      point = entry.key;
      break;
    }
  }
  const lowest = sorted[0]!.key;
  if (point > lowest) return point;
  return sorted.find((entry) => entry.key > lowest)?.key ?? null;
};

/** Items judged at most, the latest ones (the judgement is quadratic in them). */
const MONOTONIC_SAMPLE = 1000;

/**
 * Whether writes follow a monotonic sort key: of the items in the order they were first
 * written (`writes`, oldest first; a repeated key is an update), those of the last third sort
 * above those of the first third in at least `share` of their pairs (or below, in as many).
 * Random keys score about half; sequential ids score near 1 even when started out of order
 * within a window smaller than a third of them. Fewer than 24 items are too few to tell
 * (a dozen random keys would pass about one time in twenty): not monotonic.
 */
export const isMonotonic = (writes: readonly string[], share: number): boolean => {
  const created = [...new Set(writes)].slice(-MONOTONIC_SAMPLE);
  const third = Math.floor(created.length / 3);
  if (created.length < 24) return false;
  const early = created.slice(0, third);
  const late = created.slice(created.length - third);
  let above = 0;
  for (const a of early) for (const b of late) if (b > a) above++;
  const ordered = above / (third * third);
  return ordered >= share || ordered <= 1 - share;
};

/** The family of a sort key: up to its first `#` (`CORR#` of `CORR#order-7`), or all of it. */
export const familyOf = (sortKey: string): string => sortKey.slice(0, sortKey.indexOf("#") + 1);

/** Where a range splits, or why it does not. */
export type SplitChoice =
  { readonly point: string } | { readonly refused: "monotonic" | "one item" };

/**
 * Where to split a range, given its sampled traffic and which sort-key families (`CORR#`,
 * `ID#`, …) grow monotonically: at the weighted median, unless that falls inside a monotonic
 * family, whose traffic follows its newest keys and would all stay on one side. Then at one
 * end of that family, whichever shares the traffic better; refused when neither end has
 * traffic on both sides (the range is that family alone) or when one item carries it all.
 */
export const choosePoint = (
  traffic: ReadonlyArray<{ readonly key: string; readonly units: number }>,
  monotonic: (family: string) => boolean,
): SplitChoice => {
  const median = splitPoint(traffic);
  if (median === null) return { refused: "one item" };
  const family = familyOf(median);
  if (family === "" || !monotonic(family)) return { point: median };
  const below = (point: string) =>
    traffic.reduce((sum, entry) => sum + (entry.key < point ? entry.units : 0), 0);
  const total = traffic.reduce((sum, entry) => sum + entry.units, 0);
  const next = traffic
    .map((entry) => entry.key)
    .filter((key) => key > median && !key.startsWith(family))
    .sort()[0];
  const ends = [family, next]
    .filter((point): point is string => point !== undefined)
    .map((point) => ({ point, below: below(point) }))
    .filter((end) => end.below > 0 && end.below < total)
    .sort((a, b) => Math.abs(total / 2 - a.below) - Math.abs(total / 2 - b.below));
  return ends[0] === undefined ? { refused: "monotonic" } : { point: ends[0].point };
};

/** Routes a sort key to the range holding it (ranges sorted by lower bound). */
const rangeFor = (ranges: readonly Range[], sortKey: string | null): Range => {
  let at = 0;
  if (sortKey !== null) {
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]!.lower! <= sortKey) at = i;
      else break;
    }
  }
  return ranges[at]!;
};

/** Resolved model options. */
interface Settings {
  readonly limits: Throughput;
  readonly allotment: Throughput;
  readonly burstSeconds: number;
  readonly burstAtStart: boolean;
  readonly split: SplitModel | null;
}

const settle = (options: ModelOptions): Settings => {
  const limits = options.limits ?? PARTITION_LIMITS;
  return {
    limits,
    allotment: options.allotment ?? limits,
    burstSeconds: options.burstSeconds ?? BURST_SECONDS,
    burstAtStart: options.burstAtStart ?? true,
    split: options.split ?? null,
  };
};

const newBucket = (settings: Settings, kind: AccessKind, at: number): Bucket => {
  const allotment = settings.allotment[kind];
  return {
    burst: settings.burstAtStart ? allotment * settings.burstSeconds : allotment,
    cap: settings.limits[kind],
    last: at,
  };
};

/** Brings a bucket's balances up to `at`. */
const refill = (bucket: Bucket, settings: Settings, kind: AccessKind, at: number): void => {
  const elapsed = at - bucket.last;
  if (elapsed <= 0) return;
  const allotment = settings.allotment[kind];
  const limit = settings.limits[kind];
  bucket.burst = Math.min(allotment * settings.burstSeconds, bucket.burst + elapsed * allotment);
  bucket.cap = Math.min(limit, bucket.cap + elapsed * limit);
  bucket.last = at;
};

const newRange = (settings: Settings, lower: string | null, at: number, from?: Range): Range => ({
  lower,
  // A new half starts with its parent's balances: the same capacity, now on two nodes.
  read: from === undefined ? newBucket(settings, "read", at) : { ...from.read },
  write: from === undefined ? newBucket(settings, "write", at) : { ...from.write },
  second: Math.floor(at),
  readUnits: 0,
  writeUnits: 0,
  throttled: false,
  hotRun: 0,
  traffic: ring(),
  writes: ring(),
  trafficSampledAt: -Infinity,
  writeSampledAt: -Infinity,
});

/** Touches as flat columns, their keys interned: what the gate's inner loop reads. */
export interface TouchColumns {
  readonly key: Int32Array;
  readonly kind: readonly AccessKind[];
  readonly units: Float64Array;
  readonly sortKey: ReadonlyArray<string | null>;
}

/** The gate's inner loop, on interned keys. */
interface Core {
  intern(key: string): number;
  /** Admits touches `[from, to)` at `at`, or pushes the refused ones onto `refused`. */
  admit(at: number, touches: TouchColumns, from: number, to: number, refused: number[]): void;
  readonly splits: SplitEvent[];
  readonly monotonic: Set<string>;
}

/**
 * `monotonicFamily`: whether a key's sort-key family grows monotonically, as told by a whole
 * trace; without it, each range judges from the writes it sampled.
 */
const createCore = (
  options: ModelOptions,
  monotonicFamily?: (key: string, family: string) => boolean,
): Core => {
  const settings = settle(options);
  const { split } = settings;
  const ids = new Map<string, number>();
  const names: string[] = [];
  const keys: Range[][] = [];
  const splits: SplitEvent[] = [];
  const monotonic = new Set<string>();
  // Scratch: the range each touch of the current request goes to.
  let chosen: Range[] = [];

  const intern = (key: string): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = names.length;
      ids.set(key, id);
      names.push(key);
    }
    return id;
  };

  /** Splits `range` of key `id` if it may. */
  const trySplit = (id: number, range: Range, at: number): void => {
    const ranges = keys[id]!;
    const index = ranges.indexOf(range);
    if (split === null || index < 0 || ranges.length >= split.maxRangesPerKey) return;
    const traffic = chronological(range.traffic);
    const writes = chronological(range.writes);
    const sampled = (family: string) =>
      isMonotonic(
        writes.filter((entry) => familyOf(entry.key) === family).map((entry) => entry.key),
        split.monotonicShare,
      );
    const choice = choosePoint(
      traffic,
      (family) => monotonicFamily?.(names[id]!, family) ?? sampled(family),
    );
    if ("refused" in choice) {
      if (choice.refused === "monotonic") monotonic.add(names[id]!);
      return;
    }
    const { point } = choice;
    const half = (lower: string | null, inside: (key: string) => boolean): Range => ({
      ...newRange(settings, lower, at, range),
      traffic: ringOf(
        traffic.filter((entry) => inside(entry.key)),
        split.sampleSize,
      ),
      writes: ringOf(
        writes.filter((entry) => inside(entry.key)),
        split.sampleSize,
      ),
    });
    ranges.splice(
      index,
      1,
      half(range.lower, (key) => key < point),
      half(point, (key) => key >= point),
    );
    splits.push({ at, key: names[id]!, point, ranges: ranges.length });
  };

  /** Closes the range's one-second window if `second` is a later one; true when hot long enough. */
  const advanceWindow = (range: Range, second: number, heat: SplitModel): boolean => {
    if (second === range.second) return false;
    const hot =
      range.throttled ||
      range.readUnits >= heat.heatShare * settings.limits.read ||
      range.writeUnits >= heat.heatShare * settings.limits.write;
    // A gap of idle seconds breaks the run.
    range.hotRun = hot && second === range.second + 1 ? range.hotRun + 1 : 0;
    range.second = second;
    range.readUnits = 0;
    range.writeUnits = 0;
    range.throttled = false;
    return range.hotRun >= heat.heatSeconds;
  };

  /** Split-for-heat bookkeeping of one touch, after admission. */
  const observe = (
    id: number,
    range: Range,
    at: number,
    kind: AccessKind,
    units: number,
    sortKey: string | null,
    throttled: boolean,
    heat: SplitModel,
  ): void => {
    const hotLongEnough = advanceWindow(range, Math.floor(at), heat);
    if (kind === "read") range.readUnits += units;
    else range.writeUnits += units;
    if (throttled) range.throttled = true;
    // Samples spread over the heat period, however busy the range: a moving end of the
    // range shows over seconds, not over the last few hundred requests.
    const every = heat.heatSeconds / heat.sampleSize;
    if (sortKey !== null && at - range.trafficSampledAt >= every) {
      push(range.traffic, heat.sampleSize, sortKey, units);
      range.trafficSampledAt = at;
    }
    if (sortKey !== null && kind === "write" && at - range.writeSampledAt >= every) {
      push(range.writes, heat.sampleSize, sortKey, units);
      range.writeSampledAt = at;
    }
    if (hotLongEnough) {
      range.hotRun = 0;
      trySplit(id, range, at);
    }
  };

  const admit = (
    at: number,
    touches: TouchColumns,
    from: number,
    to: number,
    refused: number[],
  ): void => {
    if (chosen.length < to - from) chosen = new Array<Range>(to - from);
    const before = refused.length;
    for (let i = from; i < to; i++) {
      const id = touches.key[i]!;
      let ranges = keys[id];
      if (ranges === undefined) {
        ranges = [newRange(settings, null, at)];
        keys[id] = ranges;
      }
      const range = ranges.length === 1 ? ranges[0]! : rangeFor(ranges, touches.sortKey[i]!);
      chosen[i - from] = range;
      if (touches.units[i]! <= 0) continue;
      const kind = touches.kind[i]!;
      const bucket = range[kind];
      refill(bucket, settings, kind, at);
      if (bucket.burst <= 0 || bucket.cap <= 0) refused.push(i);
    }
    const admitted = refused.length === before;
    for (let i = from; i < to; i++) {
      const range = chosen[i - from]!;
      const kind = touches.kind[i]!;
      const units = touches.units[i]!;
      if (admitted) {
        range[kind].burst -= units;
        range[kind].cap -= units;
      }
      if (split !== null) {
        const throttled = !admitted && refused.indexOf(i, before) >= 0;
        observe(touches.key[i]!, range, at, kind, units, touches.sortKey[i]!, throttled, split);
      }
    }
  };

  return { intern, admit, splits, monotonic };
};

/** Columns of `touches`, their keys interned by `intern`. */
const columnsOf = (
  touches: readonly GateTouch[],
  intern: (key: string) => number,
): TouchColumns => ({
  key: Int32Array.from(touches, (touch) => intern(touch.key)),
  kind: touches.map((touch) => touch.kind),
  units: Float64Array.from(touches, (touch) => touch.units),
  sortKey: touches.map((touch) => touch.sortKey),
});

/** Token buckets per partition key (and, with split for heat, per sort-key range). */
export const createGate = (options: ModelOptions = {}): Gate => {
  const core = createCore(options);
  return {
    admit: (at, touches) => {
      const refused: number[] = [];
      core.admit(at, columnsOf(touches, core.intern), 0, touches.length, refused);
      return refused;
    },
    splits: () => core.splits,
    monotonicKeys: () => core.monotonic,
  };
};

/** A request as the model replays it. */
export interface ReplayRequest {
  /** Seconds from the start of the trace. */
  readonly at: number;
  readonly label: string | null;
  readonly touches: readonly GateTouch[];
}

/** Milliseconds on the recorder's clock of a trace's first request. */
export const startOf = (requests: readonly TracedRequest[]): number =>
  requests.reduce((first, request) => Math.min(first, request.at), Infinity);

/**
 * A trace as the model replays it: requests in the order they were sent, times in seconds
 * from `start` (default: the first request), and only touches the buckets can place (a key,
 * some units).
 */
export const toReplay = (
  requests: readonly TracedRequest[],
  start: number = startOf(requests),
): ReplayRequest[] => {
  const sorted = [...requests].sort((a, b) => a.at - b.at || a.id - b.id);
  return sorted.map((request) => ({
    at: (request.at - start) / 1000,
    label: request.label,
    touches: request.touches
      .filter((touch) => touch.partitionKey !== null && touch.units > 0)
      .map((touch) => ({
        key: heatKey(touch),
        kind: touch.kind,
        units: touch.units,
        sortKey: touch.sortKey,
      })),
  }));
};

/**
 * Seconds one pass of a trace covers: from its start to its last request, plus the mean gap
 * between requests, so that a repeated trace keeps its pace across the seam.
 */
export const periodOf = (requests: readonly ReplayRequest[]): number => {
  const last = requests[requests.length - 1]?.at ?? 0;
  return last + last / Math.max(1, requests.length - 1) || 1;
};

/** How to replay. */
export interface ReplayOptions extends ModelOptions {
  /** The time axis is divided by this: 2 replays the trace twice as fast. Default 1. */
  readonly speedUp?: number;
  /** Seconds one pass covers before it repeats. Default `periodOf(requests)`. */
  readonly period?: number;
  /** Seconds of virtual time to cover, repeating the trace. Default: one pass. */
  readonly until?: number;
  /** Seconds of warm-up: throttles before this are counted apart. Default 0. */
  readonly countFrom?: number;
}

/** Throttled requests that touched one key with no capacity left. */
export interface KeyThrottles {
  read: number;
  write: number;
}

/** What a replay saw. */
export interface ReplayResult {
  readonly requests: number;
  /** Throttled requests after the warm-up. */
  readonly throttled: number;
  readonly warmupThrottled: number;
  /** Seconds on the virtual clock of the first throttle after the warm-up. */
  readonly firstThrottleAt: number | null;
  readonly throttledByKey: ReadonlyMap<string, KeyThrottles>;
  /** Virtual seconds replayed. */
  readonly seconds: number;
  readonly splits: readonly SplitEvent[];
  readonly monotonicKeys: readonly string[];
}

/** FNV-1a (32 bits) of a string's UTF-16 code units, in hex: a cheap, stable scramble. */
const scramble = (text: string): string => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
};

/**
 * A sort key in pass `pass` of a repeated trace, so that each pass brings new items, as a
 * longer run would: a monotonic family's keys carry the pass number after the family's
 * prefix (each pass's keys sort above the previous pass's, in the same order among
 * themselves); other keys are drawn anew (a stable scramble of the pass and the key), still
 * within their family. Pass 0 keeps the trace's own random keys.
 */
const passSortKey = (sortKey: string, family: string, monotonic: boolean, pass: number): string =>
  monotonic
    ? family + String(pass).padStart(6, "0") + sortKey.slice(family.length)
    : pass === 0
      ? sortKey
      : family + scramble(`${pass}#${sortKey}`);

/** The sort-key families of a trace whose writes grow monotonically, per key. */
interface MonotonicFamilies {
  has(key: string, family: string): boolean;
}

/**
 * The monotonic families of one pass of a trace: a key's family (`CORR#`, `ID#`, …) whose
 * writes follow a monotonic sort key, as sequential ids do.
 */
const monotonicFamilies = (touches: readonly GateTouch[], share: number): MonotonicFamilies => {
  const group = (key: string, family: string) => `${key}${SEPARATOR}${family}`;
  const writes = new Map<string, string[]>();
  for (const touch of touches) {
    // A key without a family is never taken as monotonic: no prefix could carry the pass.
    if (touch.kind !== "write" || touch.sortKey === null || familyOf(touch.sortKey) === "") {
      continue;
    }
    const name = group(touch.key, familyOf(touch.sortKey));
    const list = writes.get(name) ?? [];
    list.push(touch.sortKey);
    writes.set(name, list);
  }
  const monotonic = new Set(
    [...writes].filter(([, keys]) => isMonotonic(keys, share)).map(([name]) => name),
  );
  return { has: (key, family) => monotonic.has(group(key, family)) };
};

/** Replays `requests` through fresh buckets (those of {@link createGate}). */
export const replay = (
  requests: readonly ReplayRequest[],
  options: ReplayOptions = {},
): ReplayResult => {
  const all = requests.flatMap((request) => request.touches);
  const families =
    options.split === null || options.split === undefined
      ? undefined
      : monotonicFamilies(all, options.split.monotonicShare);
  const core = createCore(options, families?.has);
  const columns = columnsOf(all, core.intern);
  // Sort keys per pass: only ranges (split for heat) look at them.
  const sortKeys = [...columns.sortKey];
  const touches: TouchColumns = { ...columns, sortKey: sortKeys };
  // Touches whose item changes from pass to pass (those with a sort key, under split).
  const renamed =
    families === undefined ? [] : all.flatMap((touch, i) => (touch.sortKey === null ? [] : [i]));
  const family = renamed.map((i) => familyOf(all[i]!.sortKey!));
  const monotonic = renamed.map((i, j) => families?.has(all[i]!.key, family[j]!) === true);
  const first = new Int32Array(requests.length + 1);
  requests.forEach((request, r) => (first[r + 1] = first[r]! + request.touches.length));
  const speedUp = options.speedUp ?? 1;
  const period = (options.period ?? periodOf(requests)) / speedUp;
  const until = options.until ?? period;
  const countFrom = options.countFrom ?? 0;
  const byKey = new Map<string, KeyThrottles>();
  const refused: number[] = [];
  let count = 0;
  let throttled = 0;
  let warmupThrottled = 0;
  let firstThrottleAt: number | null = null;
  for (let offset = 0, pass = 0; offset < until && requests.length > 0; offset += period, pass++) {
    renamed.forEach((i, j) => {
      sortKeys[i] = passSortKey(all[i]!.sortKey!, family[j]!, monotonic[j]!, pass);
    });
    for (let r = 0; r < requests.length; r++) {
      const at = offset + requests[r]!.at / speedUp;
      if (at >= until) break;
      count++;
      refused.length = 0;
      core.admit(at, touches, first[r]!, first[r + 1]!, refused);
      if (refused.length === 0) continue;
      if (at < countFrom) {
        warmupThrottled++;
        continue;
      }
      throttled++;
      firstThrottleAt ??= at;
      for (const index of refused) {
        const touch = all[index]!;
        const entry = byKey.get(touch.key) ?? { read: 0, write: 0 };
        entry[touch.kind]++;
        byKey.set(touch.key, entry);
      }
    }
  }
  return {
    requests: count,
    throttled,
    warmupThrottled,
    firstThrottleAt,
    throttledByKey: byKey,
    seconds: until,
    splits: core.splits,
    monotonicKeys: [...core.monotonic],
  };
};

/** How a ceiling is searched. */
export interface CeilingOptions extends ModelOptions {
  /** Seconds one pass of the trace covers. Default `periodOf(requests)`. */
  readonly period?: number;
  /** Virtual seconds a rate must run without throttling (after the warm-up). Default 60. */
  readonly sustainSeconds?: number;
  /**
   * Virtual seconds before throttles count: time for splits to happen. Default 0 without
   * split for heat; with it, enough heat periods for a key to reach `maxRangesPerKey`.
   */
  readonly warmupSeconds?: number;
  /** Relative precision of the answer. Default 0.01. */
  readonly precision?: number;
  /** A first guess of the rate, in sagas per second (the steady-state bound is a good one). */
  readonly guess?: number;
}

/** The highest rate found to run without throttling. */
export interface Ceiling {
  readonly sagasPerSecond: number;
  /** The speed-up of the trace's time axis that gives this rate. */
  readonly speedUp: number;
  /** Replays the search took. */
  readonly replays: number;
}

/**
 * The default warm-up of a search: heat periods enough for a key to split all the way even
 * one range at a time (a traffic median need not halve the heat), and two more.
 */
export const warmupFor = (split: SplitModel | null | undefined): number =>
  split === null || split === undefined ? 0 : (split.maxRangesPerKey + 2) * split.heatSeconds;

/**
 * The highest sustained rate, in sagas per second, at which `requests` (the trace of `sagas`
 * sagas) run without throttling: the time axis is sped up or slowed down until throttling
 * appears, each candidate replayed (repeated) for `sustainSeconds` after the warm-up, its
 * partitions starting without burst credit. Bisection to `precision`.
 */
export const searchCeiling = (
  requests: readonly ReplayRequest[],
  sagas: number,
  options: CeilingOptions = {},
): Ceiling => {
  const recordedRate = sagas / (options.period ?? periodOf(requests));
  const warmup = options.warmupSeconds ?? warmupFor(options.split);
  const sustain = options.sustainSeconds ?? 60;
  const precision = options.precision ?? 0.01;
  let replays = 0;
  const fits = (speedUp: number): boolean => {
    replays++;
    return (
      replay(requests, {
        ...options,
        burstAtStart: false,
        speedUp,
        until: warmup + sustain,
        countFrom: warmup,
      }).throttled === 0
    );
  };
  let low: number;
  let high: number;
  const first = options.guess === undefined ? 1 : options.guess / recordedRate;
  if (fits(first)) {
    low = first;
    high = first * 2;
    while (fits(high)) {
      low = high;
      high *= 2;
      if (high > 1e9) return { sagasPerSecond: Infinity, speedUp: Infinity, replays };
    }
  } else {
    high = first;
    low = first / 2;
    while (!fits(low)) {
      high = low;
      low /= 2;
      if (low < 1e-9) return { sagasPerSecond: 0, speedUp: 0, replays };
    }
  }
  while (high / low > 1 + precision) {
    const middle = Math.sqrt(low * high);
    if (fits(middle)) low = middle;
    else high = middle;
  }
  return { sagasPerSecond: low * recordedRate, speedUp: low, replays };
};

/** The load one trace puts on one partition key, for reads or for writes. */
export interface KeyLoad {
  readonly key: string;
  readonly table: string;
  readonly index: string | null;
  readonly partitionKey: string;
  readonly kind: AccessKind;
  readonly units: number;
  readonly touches: number;
  readonly unitsPerSaga: number;
  /** Mean units per second over the trace, and the most in any one second of it. */
  readonly meanPerSecond: number;
  readonly peakPerSecond: number;
  /** Sagas per second at which this key alone reaches its partition's limit. */
  readonly bound: number;
}

/**
 * Units per partition key and kind, per saga, and the saga rate each key allows:
 * `limit / units per saga`, the steady state (burst capacity is finite, so any rate above
 * this throttles once it is spent). Hottest (lowest bound) first.
 */
export const keyLoads = (
  requests: readonly TracedRequest[],
  sagas: number,
  limits: Throughput = PARTITION_LIMITS,
  start: number = startOf(requests),
  period?: number,
): KeyLoad[] => {
  const replayable = toReplay(requests, start);
  const seconds = period ?? periodOf(replayable);
  const totals = new Map<
    string,
    { units: number; touches: number; perSecond: Map<number, number> }
  >();
  for (const request of replayable) {
    const second = Math.floor(request.at);
    for (const touch of request.touches) {
      const id = `${touch.kind}${SEPARATOR}${touch.key}`;
      const entry = totals.get(id) ?? { units: 0, touches: 0, perSecond: new Map() };
      entry.units += touch.units;
      entry.touches++;
      entry.perSecond.set(second, (entry.perSecond.get(second) ?? 0) + touch.units);
      totals.set(id, entry);
    }
  }
  return [...totals]
    .map(([id, entry]): KeyLoad => {
      const kind = id.slice(0, id.indexOf(SEPARATOR)) as AccessKind;
      const key = id.slice(id.indexOf(SEPARATOR) + 1);
      const unitsPerSaga = entry.units / sagas;
      return {
        key,
        ...describeKey(key),
        kind,
        units: entry.units,
        touches: entry.touches,
        unitsPerSaga,
        meanPerSecond: entry.units / seconds,
        peakPerSecond: Math.max(...entry.perSecond.values()),
        bound: limits[kind] / unitsPerSaga,
      };
    })
    .sort((a, b) => a.bound - b.bound);
};

/** The requests made for one saga type (`null`: every request). */
export const requestsOf = (
  requests: readonly TracedRequest[],
  label: string | null,
): TracedRequest[] =>
  label === null ? [...requests] : requests.filter((request) => request.label === label);

/** The model's answer for one saga type. */
export interface TypeCeiling {
  /** The saga type; `null` for all types together, at the mix of the trace. */
  readonly label: string | null;
  readonly sagas: number;
  /** Sagas per second of the trace as recorded. */
  readonly recordedRate: number;
  /** Units per saga over every key. */
  readonly unitsPerSaga: Throughput;
  /** The steady-state bound and the key that sets it. */
  readonly bound: KeyLoad;
  /** The replayed ceiling without split for heat. */
  readonly replayed: Ceiling;
  /** The replayed ceiling once split for heat has settled, when asked for. */
  readonly settled: Ceiling | null;
}

/** Options of {@link typeCeilings}. */
export interface TypeCeilingOptions extends Omit<CeilingOptions, "split" | "guess" | "period"> {
  /**
   * Also search each saga type with split for heat: the model, and the search's own options
   * (the warm-up it needs makes its replays longer). Not for the mix of types.
   */
  readonly settled?: Omit<CeilingOptions, "guess" | "period"> & { readonly split: SplitModel };
}

/**
 * The ceiling of each saga type alone (its own requests), and of all types together at the
 * trace's mix: the steady-state bound, the replayed ceiling, and optionally (per type) the
 * ceiling once split for heat has settled, searched upwards from the replayed one.
 */
export const typeCeilings = (
  requests: readonly TracedRequest[],
  sagasByLabel: ReadonlyMap<string, number>,
  options: TypeCeilingOptions = {},
): TypeCeiling[] => {
  const { settled, ...plain } = options;
  const limits = plain.limits ?? PARTITION_LIMITS;
  const total = [...sagasByLabel.values()].reduce((a, b) => a + b, 0);
  const start = startOf(requests);
  const period = periodOf(toReplay(requests, start));
  const groups: Array<[string | null, number]> = [...sagasByLabel];
  if (groups.length > 1) groups.push([null, total]);
  return groups.map(([label, sagas]) => {
    const own = requestsOf(requests, label);
    // Each type keeps the whole trace's time axis, so that its rate is the one it ran at.
    const loads = keyLoads(own, sagas, limits, start, period);
    const replayable = toReplay(own, start);
    const bound = loads[0]!;
    const replayed = searchCeiling(replayable, sagas, { ...plain, period, guess: bound.bound });
    const sum = (kind: AccessKind) =>
      loads.filter((load) => load.kind === kind).reduce((a, load) => a + load.unitsPerSaga, 0);
    return {
      label,
      sagas,
      recordedRate: sagas / period,
      unitsPerSaga: { read: sum("read"), write: sum("write") },
      bound,
      replayed,
      settled:
        settled === undefined || label === null
          ? null
          : searchCeiling(replayable, sagas, {
              ...settled,
              period,
              guess: replayed.sagasPerSecond,
            }),
    };
  });
};

/** The partition key holding the most of one saga type's items, in one table or index. */
export interface KeyShare {
  readonly table: string;
  readonly index: string | null;
  readonly partitionKey: string;
  /** Distinct items (sort keys) written under the key, and under every key of the target. */
  readonly items: number;
  readonly totalItems: number;
  readonly share: number;
}

/**
 * For each table and index, the partition key that holds the largest share of the items the
 * requests wrote (distinct sort keys): with N shards, each should hold about 1/N.
 */
export const largestKeyShares = (requests: readonly TracedRequest[]): KeyShare[] => {
  const byTarget = new Map<string, Map<string, Set<string>>>();
  for (const request of requests) {
    if (request.error !== null) continue;
    for (const touch of request.touches) {
      if (touch.kind !== "write" || touch.partitionKey === null || touch.sortKey === null) continue;
      const target = heatKey({ ...touch, partitionKey: "" });
      const keys = byTarget.get(target) ?? new Map<string, Set<string>>();
      const items = keys.get(touch.partitionKey) ?? new Set<string>();
      items.add(touch.sortKey);
      keys.set(touch.partitionKey, items);
      byTarget.set(target, keys);
    }
  }
  return [...byTarget].map(([target, keys]) => {
    const totalItems = [...keys.values()].reduce((sum, items) => sum + items.size, 0);
    const [partitionKey, items] = [...keys].reduce((a, b) => (b[1].size > a[1].size ? b : a));
    const { table, index } = describeKey(target);
    return {
      table,
      index,
      partitionKey,
      items: items.size,
      totalItems,
      share: items.size / totalItems,
    };
  });
};
