/**
 * The partition-heat model (bench/heat): traces derived from the store's own commands, token
 * buckets and ceilings on small hand-made traces whose answers follow by hand, the split-for-heat
 * model, and the throttling `send` the integration tests use.
 */
import {
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { createDynamoDBSagaStore, type SagaState, type Send, type StoreCommand } from "../../src";
import { DEFAULT_LAYOUT, type TableLayout } from "../../src/internals";
import { getSagaInput, insertInput, updateInput } from "../../src/commands";
import { encodeState } from "../../src/marshal";
import {
  choosePoint,
  createGate,
  isMonotonic,
  keyLoads,
  replay,
  searchCeiling,
  splitPoint,
  typeCeilings,
  type GateTouch,
  type ReplayRequest,
} from "../../bench/heat/model";
import {
  accessesOf,
  applyUpdate,
  createTraceRecorder,
  estimatedTouches,
  keyConditionValues,
  keySchemaOf,
  type Touch,
  type TracedRequest,
} from "../../bench/heat/trace";
import { seededRandom } from "../../workload/deliveries";
import { awsError } from "../support/fake-send";
import { steppingClock, throttlingSend } from "../support/throttling-send";

const NAMES = { tableName: "sagas", correlationIndexName: "GSI1", cleanupIndexName: "GSI2" };
const DAY = 86_400_000;

/** A small saga state; completed ones completed on 1970-01-03. */
const state = (sagaId: string, version: number, isCompleted = false): SagaState => ({
  metadata: {
    sagaId,
    version,
    createdAt: new Date(0),
    updatedAt: new Date(2 * DAY),
    isCompleted,
  },
});

const encoded = (sagaId: string, version: number, isCompleted = false) =>
  encodeState(state(sagaId, version, isCompleted), {}, undefined);

describe("trace: what each request touches", () => {
  /** Answers like DynamoDB Local does with ReturnConsumedCapacity INDEXES (measured). */
  const localAnswers: Send = async (command) => {
    if (command instanceof TransactWriteCommand) {
      return {
        ConsumedCapacity: [
          {
            TableName: "sagas",
            CapacityUnits: 6,
            Table: { CapacityUnits: 4 },
            GlobalSecondaryIndexes: { GSI1: { CapacityUnits: 2 } },
          },
        ],
      };
    }
    if (command instanceof UpdateCommand) {
      const completes = String(command.input.UpdateExpression).includes("if_not_exists");
      if ((command.input.ExpressionAttributeValues ?? {})[":expectedVersion"] === 9) {
        throw awsError("ConditionalCheckFailedException", { $fault: "client" });
      }
      return {
        ConsumedCapacity: {
          TableName: "sagas",
          CapacityUnits: completes ? 2 : 1,
          Table: { CapacityUnits: 1 },
          ...(completes ? { GlobalSecondaryIndexes: { GSI2: { CapacityUnits: 1 } } } : {}),
        },
      };
    }
    return {
      Item: { PK: "SAGA#Order", SK: "ID#s1" },
      ConsumedCapacity: { TableName: "sagas", CapacityUnits: 1, Table: { CapacityUnits: 1 } },
    };
  };

  it("records the table's items and the index entries of an insert, a completing update, a failed update and a read, with the units DynamoDB reported", async () => {
    let now = 0;
    const recorder = createTraceRecorder({ clock: () => (now += 10) });
    const send = recorder.wrap(localAnswers, "Order");
    const insert = new TransactWriteCommand(
      insertInput(NAMES, "Order", "order-1", encoded("s1", 0)),
    );
    await send(insert);
    expect(insert.input.ReturnConsumedCapacity).toBe("INDEXES");
    await send(new UpdateCommand(updateInput(NAMES, "Order", encoded("s1", 1, true), 0)));
    await expect(
      send(new UpdateCommand(updateInput(NAMES, "Order", encoded("s1", 10), 9))),
    ).rejects.toThrow("ConditionalCheckFailedException");
    await send(new GetCommand(getSagaInput(NAMES, "Order", "s1", true)));

    const [inserted, completed, failed, read] = recorder.requests();
    const short = (touch: Touch) => [
      touch.index ?? "table",
      touch.kind,
      touch.partitionKey,
      touch.sortKey,
      touch.units,
      touch.reported,
    ];
    // 4 table units shared by the two puts (2 each: sub-KB, transactional), 2 for GSI1.
    expect(inserted!.touches.map(short)).toEqual([
      ["table", "write", "SAGA#Order", "ID#s1", 2, true],
      ["table", "write", "SAGA#Order", "CORR#order-1", 2, true],
      ["GSI1", "write", "SAGA#Order", "CORR#order-1", 2, true],
    ]);
    expect(inserted).toMatchObject({ label: "Order", command: "TransactWriteItems", at: 10 });
    // The completing update adds the saga to the cleanup index under its completion day.
    expect(completed!.touches.map(short)).toEqual([
      ["table", "write", "SAGA#Order", "ID#s1", 1, true],
      ["GSI2", "write", "COMPLETED#1970-01-03", "Order#s1", 1, true],
    ]);
    // A failed condition is charged by DynamoDB's rules and writes no index entry.
    expect(failed!.error).toBe("ConditionalCheckFailedException");
    expect(failed!.touches.map(short)).toEqual([
      ["table", "write", "SAGA#Order", "ID#s1", 1, false],
    ]);
    expect(read!.touches.map(short)).toEqual([["table", "read", "SAGA#Order", "ID#s1", 1, true]]);
    expect(read!.touches[0]!.bytes).toBeGreaterThan(100);
  });

  it("reads index key attributes from the layout, never from fixed names", () => {
    const layout: TableLayout = {
      ...DEFAULT_LAYOUT,
      correlationIndexKey: (sagaName, correlationId) => ({
        CorrelationPK: `BY-NAME#${sagaName}`,
        CorrelationSK: correlationId,
      }),
      indexes: {
        ...DEFAULT_LAYOUT.indexes,
        correlation: {
          partitionKey: "CorrelationPK",
          sortKey: "CorrelationSK",
          projection: { ProjectionType: "KEYS_ONLY" },
        },
      },
    };
    const input = insertInput({ ...NAMES, layout }, "Order", "order-1", encoded("s1", 0));
    const indexTouches = (schemaLayout: TableLayout) =>
      estimatedTouches(
        keySchemaOf(schemaLayout),
        accessesOf("TransactWriteItems", input, keySchemaOf(schemaLayout), new Map()),
      ).filter((touch) => touch.index !== null);
    expect(indexTouches(layout).map((touch) => [touch.partitionKey, touch.sortKey])).toEqual([
      ["BY-NAME#Order", "order-1"],
    ]);
    // The default layout's GSI1PK is not on these items: no entry.
    expect(indexTouches(DEFAULT_LAYOUT)).toEqual([]);
  });

  it("applies update expressions: SET, if_not_exists and REMOVE", () => {
    const after = applyUpdate(
      { PK: "p", a: 1, b: 2, c: "kept" },
      "SET #a = :a, #d = if_not_exists(#d, :d), #c = if_not_exists(#c, :c) REMOVE #b",
      { "#a": "a", "#b": "b", "#c": "c", "#d": "d" },
      { ":a": 5, ":c": "ignored", ":d": "new" },
    );
    expect(after).toEqual({ PK: "p", a: 5, c: "kept", d: "new" });
  });

  it("reads a query's partition key and sort key from its key condition", () => {
    expect(
      keyConditionValues(
        "#pk = :pk AND begins_with(SK, :prefix)",
        { "#pk": "PK" },
        { ":pk": "SAGA#Order", ":prefix": "ID#" },
        "PK",
        "SK",
      ),
    ).toEqual({ partitionKey: "SAGA#Order", sortKey: "ID#" });
  });
});

/** A write (or read) touch of the table `t`. */
const touch = (
  partitionKey: string,
  units: number,
  kind: "read" | "write" = "write",
  index: string | null = null,
): Touch => ({
  table: "t",
  index,
  kind,
  partitionKey,
  sortKey: null,
  bytes: 0,
  units,
  reported: true,
});

const traced = (
  id: number,
  atMs: number,
  touches: readonly Touch[],
  label = "A",
): TracedRequest => ({
  id,
  at: atMs,
  durationMs: 0,
  label,
  command: "UpdateItem",
  error: null,
  touches,
});

const gateTouch = (key: string, units: number, kind: "read" | "write" = "write"): GateTouch => ({
  key,
  kind,
  units,
  sortKey: null,
});

describe("token buckets", () => {
  it("serves 1,000 write units in a second and throttles the next request until capacity returns", () => {
    const gate = createGate();
    for (let i = 0; i < 10; i++) expect(gate.admit(0, [gateTouch("K", 100)])).toEqual([]);
    expect(gate.admit(0, [gateTouch("K", 100)])).toEqual([0]);
    // Half a second earns 500 units.
    expect(gate.admit(0.5, [gateTouch("K", 100)])).toEqual([]);
    // Reads have their own 3,000 units.
    expect(gate.admit(0.5, [gateTouch("K", 3000, "read")])).toEqual([]);
    expect(gate.admit(0.5, [gateTouch("K", 1, "read")])).toEqual([0]);
  });

  it("admits a request while the balance is positive and charges it in full", () => {
    const gate = createGate();
    expect(gate.admit(0, [gateTouch("K", 1500)])).toEqual([]); // 1,000 → -500
    expect(gate.admit(0.4, [gateTouch("K", 1)])).toEqual([0]); // -100
    expect(gate.admit(0.6, [gateTouch("K", 1)])).toEqual([]); // +100
  });

  it("never lifts an on-demand partition past its limit, however long it was idle", () => {
    const gate = createGate();
    for (let i = 0; i < 10; i++) expect(gate.admit(300, [gateTouch("K", 100)])).toEqual([]);
    expect(gate.admit(300, [gateTouch("K", 100)])).toEqual([0]);
  });

  it("lets a provisioned partition burst to the limit on 300 seconds of unused allotment", () => {
    // 100 WCU/s allotted, idle: 30,000 units kept. At 1,000 WCU/s (100 every 0.1 s) the burst
    // balance falls by 90 per request: 30,000 - 90k, positive for k ≤ 333, so request 334,
    // at 33.4 s, is the first one throttled.
    const gate = createGate({ allotment: { read: 300, write: 100 } });
    let first: number | undefined;
    for (let k = 0; k < 400 && first === undefined; k++) {
      if (gate.admit(k / 10, [gateTouch("K", 100)]).length > 0) first = k;
    }
    expect(first).toBe(334);
  });

  it("throttles a whole write when one of its index partitions is out of capacity (back-pressure)", () => {
    const gate = createGate({ limits: { read: 10, write: 10 } });
    expect(gate.admit(0, [gateTouch("index", 10)])).toEqual([]);
    expect(gate.admit(0, [gateTouch("table", 5), gateTouch("index", 5)])).toEqual([1]);
    // The refused request charged the table nothing.
    expect(gate.admit(0, [gateTouch("table", 10)])).toEqual([]);
    expect(gate.admit(0, [gateTouch("table", 1)])).toEqual([0]);
  });
});

describe("ceilings", () => {
  /**
   * 10 sagas of type A, one a second: a write of 7 units on the table key SAGA#A and 1 on the
   * index key, then half a second later a read of 2 units. 5 sagas of type B, 14 units each.
   */
  const trace = (): TracedRequest[] => {
    const requests: TracedRequest[] = [];
    for (let i = 0; i < 10; i++) {
      requests.push(
        traced(requests.length, i * 1000, [
          touch("SAGA#A", 7),
          touch("SAGA#A", 1, "write", "GSI1"),
        ]),
      );
      requests.push(traced(requests.length, i * 1000 + 500, [touch("SAGA#A", 2, "read")]));
    }
    for (let i = 0; i < 5; i++) {
      requests.push(traced(requests.length, i * 2000 + 250, [touch("SAGA#B", 14)], "B"));
    }
    return requests;
  };

  it("bounds each key at its limit divided by its units per saga", () => {
    const loads = keyLoads(
      trace().filter((request) => request.label === "A"),
      10,
    );
    expect(
      loads.map((load) => [load.index ?? "table", load.kind, load.unitsPerSaga, load.bound]),
    ).toEqual([
      ["table", "write", 7, 1000 / 7],
      ["GSI1", "write", 1, 1000],
      ["table", "read", 2, 1500],
    ]);
    // 20 requests, the last at 9.5 s: one pass covers 9.5 + 9.5 / 19 = 10 s.
    expect(loads[0]!.meanPerSecond).toBeCloseTo(7);
    expect(loads[0]!.peakPerSecond).toBe(7);
  });

  it("finds the replayed ceiling where one second of capacity no longer covers a sustained minute", () => {
    // At r sagas/s the table key needs 7r units a second and earns 1,000; starting from one
    // second's balance it throttles after 1000 / (7r - 1000) s, so a minute holds while
    // r ≤ (1000 + 1000/60) / 7 = 145.24. The bisection stops within 1 % below that.
    const [a, b, mix] = typeCeilings(
      trace(),
      new Map([
        ["A", 10],
        ["B", 5],
      ]),
    );
    expect(a!.label).toBe("A");
    expect(a!.bound.bound).toBeCloseTo(1000 / 7);
    expect(a!.replayed.sagasPerSecond).toBeGreaterThan(145.24 / 1.01);
    expect(a!.replayed.sagasPerSecond).toBeLessThanOrEqual(145.25);
    // 25 requests, the last at 9.5 s: a pass covers 9.5 + 9.5 / 24 s, for every type.
    expect(a!.recordedRate).toBeCloseTo(10 / (9.5 + 9.5 / 24));
    expect(a!.unitsPerSaga).toEqual({ read: 2, write: 8 });
    expect(b!.bound.bound).toBeCloseTo(1000 / 14);
    // Together, each key carries its type's units over 15 sagas.
    expect(mix!.label).toBeNull();
    expect(mix!.bound.bound).toBeCloseTo(1000 / (70 / 15));
  });

  it("searches a uniform trace to the same answer from any first guess", () => {
    // One request of 10 units every 0.1 s: 100 sagas/s at the limit.
    const requests: ReplayRequest[] = Array.from({ length: 100 }, (_, i) => ({
      at: i / 10,
      label: "A",
      touches: [gateTouch("K", 10)],
    }));
    const limit = (1000 + 1000 / 60) / 10;
    for (const guess of [1, 100, 1000]) {
      const { sagasPerSecond } = searchCeiling(requests, 100, { guess });
      expect(sagasPerSecond).toBeGreaterThan(limit / 1.01);
      expect(sagasPerSecond).toBeLessThanOrEqual(limit);
    }
  });
});

describe("split for heat", () => {
  it("splits at the median of the traffic, past the lowest key, and never a single item", () => {
    const entries = (keys: string, units = 1) => [...keys].map((key) => ({ key, units }));
    expect(splitPoint(entries("dbca"))).toBe("b");
    expect(splitPoint([{ key: "a", units: 10 }, ...entries("bc")])).toBe("b");
    expect(splitPoint(entries("aaaa"))).toBeNull();
  });

  it("tells monotonic sort keys from random ones", () => {
    const padded = (i: number) => `ID#${String(i).padStart(6, "0")}`;
    const increasing = Array.from({ length: 200 }, (_, i) => padded(i));
    const random = seededRandom(7);
    const shuffled = Array.from({ length: 200 }, () => padded(Math.floor(random() * 1e6)));
    expect(isMonotonic(increasing, 0.9)).toBe(true);
    expect(isMonotonic([...increasing].reverse(), 0.9)).toBe(true);
    expect(isMonotonic(shuffled, 0.9)).toBe(false);
    // Started out of order: each next item picked at random among the 16 oldest pending.
    const pending = [...increasing];
    const windowed: string[] = [];
    while (pending.length > 0) {
      windowed.push(pending.splice(Math.floor(random() * Math.min(16, pending.length)), 1)[0]!);
    }
    expect(isMonotonic(windowed, 0.9)).toBe(true);
    // Updates repeat keys: only the order items are first written in counts.
    const updated = increasing.flatMap((key, i) => [key, increasing[Math.max(0, i - 5)]!]);
    expect(isMonotonic(updated, 0.9)).toBe(true);
    // Too few items to tell.
    expect(isMonotonic(increasing.slice(0, 23), 0.9)).toBe(false);
    expect(isMonotonic(increasing.slice(0, 24), 0.9)).toBe(true);
  });

  it("never splits inside a monotonic family: splits it off at an end, or not at all", () => {
    const entries = (keys: readonly string[]) => keys.map((key) => ({ key, units: 1 }));
    const corr = ["CORR#1", "CORR#2", "CORR#3", "CORR#4", "CORR#5", "CORR#6"];
    const ids = ["ID#a", "ID#b"];
    const monotonic = (family: string) => family === "CORR#";
    // The median, CORR#4, is inside the monotonic family: its upper end (ID#a) leaves 6 of 8
    // units below, its lower end (CORR#) none, so the split isolates the family.
    expect(choosePoint(entries([...corr, ...ids]), monotonic)).toEqual({ point: "ID#a" });
    expect(choosePoint(entries(corr), monotonic)).toEqual({ refused: "monotonic" });
    expect(choosePoint(entries(corr), () => false)).toEqual({ point: "CORR#3" });
    expect(choosePoint(entries(["ID#a", "ID#a"]), monotonic)).toEqual({ refused: "one item" });
  });

  /** 1,500 write units a second on one key (150 requests of 10), for a minute. */
  const hotKey = (sortKey: (i: number) => string): ReplayRequest[] =>
    Array.from({ length: 150 * 60 }, (_, i) => ({
      at: i / 150,
      label: "A",
      touches: [{ key: "K", kind: "write", units: 10, sortKey: sortKey(i) }],
    }));
  const split = {
    heatSeconds: 5,
    heatShare: 0.8,
    maxRangesPerKey: 4,
    sampleSize: 200,
    monotonicShare: 0.9,
  };

  it("splits a hot key with random sort keys and stops throttling; never splits a monotonic one", () => {
    const random = seededRandom(11);
    const randomKeys = hotKey(
      () =>
        `ID#${Math.floor(random() * 1e9)
          .toString(36)
          .padStart(6, "0")}`,
    );
    const sequential = hotKey((i) => `CORR#order-${String(i).padStart(6, "0")}`);
    const options = { burstAtStart: false, countFrom: 30 };

    expect(replay(randomKeys, options).throttled).toBeGreaterThan(0);
    const splitRandom = replay(randomKeys, { ...options, split });
    expect(splitRandom.splits.length).toBeGreaterThan(0);
    expect(splitRandom.throttled).toBe(0);

    const splitSequential = replay(sequential, { ...options, split });
    expect(splitSequential.splits).toEqual([]);
    expect(splitSequential.monotonicKeys).toEqual(["K"]);
    expect(splitSequential.throttled).toBeGreaterThan(0);

    // Two seconds of sequential keys repeated for a minute still grow: no pass starts over.
    const twoSeconds = sequential.slice(0, 300);
    const repeated = replay(twoSeconds, { ...options, split, until: 60 });
    expect(repeated.splits).toEqual([]);
    expect(repeated.throttled).toBeGreaterThan(0);
  });
});

describe("throttling send", () => {
  const counting = () => {
    const sent: StoreCommand[] = [];
    const send: Send = async (command) => {
      sent.push(command);
      return {};
    };
    return { sent, send };
  };

  it("answers DynamoDB's throttling error once a key's bucket is empty, without sending", async () => {
    // 3 write units a second, 1 ms per request: balances 3, 2.003, 1.006, 0.009 before the
    // first four updates (1 unit each), then -0.988: the fifth is throttled.
    const { sent, send } = counting();
    const throttling = throttlingSend(send, {
      limits: { read: 100, write: 3 },
      clock: steppingClock(1),
    });
    const update = () => new UpdateCommand(updateInput(NAMES, "Order", encoded("s1", 1), 0));
    for (let i = 0; i < 4; i++) await throttling.send(update());
    await expect(throttling.send(update())).rejects.toMatchObject({
      name: "ProvisionedThroughputExceededException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    expect(sent).toHaveLength(4);
    expect(throttling.counts).toMatchObject({ requests: 5, throttled: 1 });
    expect([...throttling.counts.byKey]).toEqual([["table SAGA#Order", 1]]);

    // Through the store, the throttle is a TransientError: saga-bus retries it.
    const store = createDynamoDBSagaStore<SagaState>({ send: throttling.send, tableName: "sagas" });
    await expect(store.update("Order", state("s1", 2), 1)).rejects.toMatchObject({
      name: "TransientError",
      cause: { name: "ProvisionedThroughputExceededException" },
    });
  });

  it("cancels a transaction with ThrottlingError on the actions whose partition, of the table or an index, is out of capacity", async () => {
    // Every saga name shares one correlation-index key: the index throttles before any table key.
    const layout: TableLayout = {
      ...DEFAULT_LAYOUT,
      correlationIndexKey: (_name, correlationId) => ({ GSI1PK: "ALL", GSI1SK: correlationId }),
    };
    const { sent, send } = counting();
    const throttling = throttlingSend(send, {
      limits: { read: 100, write: 3 },
      clock: steppingClock(1),
      layout,
    });
    const insert = (sagaName: string): TransactWriteCommandInput =>
      insertInput({ ...NAMES, layout }, sagaName, "order-1", encoded(`${sagaName}-1`, 0));
    // Each insert: 4 units on its own table key, 2 on the shared index key (3 → 1 → -1).
    await throttling.send(new TransactWriteCommand(insert("A")));
    await throttling.send(new TransactWriteCommand(insert("B")));
    await expect(throttling.send(new TransactWriteCommand(insert("C")))).rejects.toMatchObject({
      name: "TransactionCanceledException",
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: [{ Code: "ThrottlingError" }, { Code: "None" }],
    });
    expect(sent).toHaveLength(2);
    expect([...throttling.counts.byKey]).toEqual([["GSI1 ALL", 1]]);
  });
});
