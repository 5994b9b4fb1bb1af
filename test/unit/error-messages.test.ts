/**
 * Error messages end up in logs and in saga-bus's dead-letter header: they name paths and
 * expected types, never a value of the state, and stay short whatever the state's size.
 */
import { inspect } from "node:util";
import * as t from "io-ts";
import {
  DynamoDBRequestError,
  InvalidItemError,
  InvalidStateError,
  SagaMetadataCodec,
  type DynamoDBSagaStoreDeps,
  type StateCodec,
} from "../../src";
import { encodeState } from "../../src/internals";
import { rejection, thrown } from "../support/caught";
import { answeringSend } from "../support/fake-send";
import {
  CORRELATION_ID,
  makeStore,
  metadata,
  NAME,
  SAGA_ID,
  storedItem,
  type OrderState,
} from "../support/unit-states";

// ---------------------------------------------------------------------------------------------
// Helpers

const EMAIL = "ada@example.com";
const CARD = "4111111111111111";
const SECRETS = [EMAIL, CARD];
/** Longest message allowed, whatever the state holds. */
const MAX_MESSAGE = 300;

/** About `bytes` of JSON in which the secrets repeat. */
const filler = (bytes: number): string[] =>
  Array.from({ length: Math.ceil(bytes / 40) }, (_, i) => `${EMAIL} ${CARD} #${i}`);

/** A state holding the secrets, where the codec below wants `card` to be a number. */
const secretState = (extra: Record<string, unknown> = {}): OrderState => ({
  customer: { email: EMAIL, card: CARD },
  ...extra,
  metadata: metadata(),
});

const CustomerCodec = t.type({
  customer: t.type({ email: t.string, card: t.number }),
  metadata: SagaMetadataCodec,
}) as unknown as StateCodec<OrderState>;

/** The store over `send`, with the codec above. */
const customerStore = (send: DynamoDBSagaStoreDeps["send"]) =>
  makeStore(send, { stateCodec: CustomerCodec });

/** Every way an error is commonly turned into text: none may carry a secret. */
const expectNoSecrets = (error: Error): void => {
  const renderings = {
    message: error.message,
    json: JSON.stringify(error),
    string: String(error),
    inspect: inspect(error),
    stack: error.stack ?? "",
  };
  for (const [how, text] of Object.entries(renderings)) {
    for (const secret of SECRETS) {
      expect({ how, leaks: text.includes(secret) }).toEqual({ how, leaks: false });
    }
  }
};

// ---------------------------------------------------------------------------------------------

describe("a stateCodec rejection on write", () => {
  it("names the path and the expected type, never the value", async () => {
    const { send, calls } = answeringSend({});
    const error = await rejection(customerStore(send).insert(NAME, CORRELATION_ID, secretState()));

    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toContain("state.customer.card: expected number, got string");
    expectNoSecrets(error);
    expect(calls).toHaveLength(0);
  });

  it("keeps the message under 300 characters for a 400 KB state, all problems in `report`", async () => {
    // 10,000 tags that should be numbers, in a state of about 400 KB.
    const tags = filler(400 * 1024);
    const codec = t.type({
      tags: t.array(t.number),
      metadata: SagaMetadataCodec,
    }) as unknown as StateCodec<OrderState>;
    const state = secretState({ tags });
    expect(JSON.stringify(state).length).toBeGreaterThan(400 * 1024);

    const error = thrown(() => encodeState(state, { sagaName: NAME, sagaId: SAGA_ID }, codec));

    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toContain("state.tags[0]: expected number, got string");
    expect(error.message).toMatch(/\(and \d+ more\)$/);
    expectNoSecrets(error);

    const report = error.report;
    expect(report).toContain(`state.tags[${tags.length - 1}]: expected number, got string`);
    for (const secret of SECRETS) expect(report).not.toContain(secret);
    expect(Object.keys(error)).not.toContain("report");
  });

  it("cuts a long path and a long type name at an ellipsis", () => {
    const key = "k".repeat(5000);
    const Wide = t.type(
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, t.string])),
    );
    const codec = t.type({
      [key]: t.type({ inner: Wide }),
      metadata: SagaMetadataCodec,
    }) as unknown as StateCodec<OrderState>;
    const state = secretState({ [key]: { inner: EMAIL } });

    const error = thrown(() => encodeState(state, { sagaName: NAME, sagaId: SAGA_ID }, codec));

    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toMatch(
      /state\.kkk+…k+\.inner: expected \{ field0: string, [^;]*…, got string/,
    );
    expect(error.report).toContain(`state.${key}.inner`);
    expectNoSecrets(error);
  });

  it("of a value JSON cannot hold names the path, and a long path is cut", () => {
    const key = "k".repeat(5000);
    const state = secretState({ [key]: { amount: NaN } });
    const error = thrown(() => encodeState(state, { sagaName: NAME, sagaId: SAGA_ID }, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toMatch(/state\.kkk+…k+\.amount is NaN/);
  });
});

describe("an item that does not decode on read", () => {
  it("fails the application's codec: path and type, never the value", async () => {
    const { send } = answeringSend({ Item: storedItem(secretState()) });
    const error = await rejection(customerStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.message).toContain("fails the application's codec");
    expect(error.message).toContain("state.customer.card: expected number, got string");
    expectNoSecrets(error);
  });

  it("fails the application's codec in a 400 KB state: a short message", async () => {
    const item = storedItem(secretState({ customer: { email: EMAIL, card: filler(400 * 1024) } }));
    expect(String(item.state).length).toBeGreaterThan(400 * 1024);
    const { send } = answeringSend({ Item: item });
    const error = await rejection(customerStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toContain("state.customer.card: expected number, got array");
    expectNoSecrets(error);
  });

  it("holds a state that is not JSON: the parser's message (which quotes it) is left out", async () => {
    const item = { ...storedItem(secretState()), state: `[${EMAIL}]` };
    const { send } = answeringSend({ Item: item });
    const error = await rejection(customerStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.message).toContain("state is not JSON");
    expectNoSecrets(error);
  });

  it("misses attributes in a 400 KB item: the item codec's report names attributes only", async () => {
    const item = storedItem(secretState({ notes: filler(400 * 1024) }));
    delete item.createdAt;
    const { send } = answeringSend({ Item: { ...item, version: CARD } });
    const error = await rejection(customerStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toContain("item.version: expected NonNegativeInteger, got string");
    expect(error.message).toContain("item.createdAt: expected DateFromISOString, got undefined");
    expectNoSecrets(error);
  });

  it("keeps the full report off the enumerable fields (`report`, and `details.report`)", async () => {
    const { send } = answeringSend({ Item: storedItem(secretState()) });
    const error = (await rejection(
      customerStore(send).getById(NAME, SAGA_ID),
    )) as unknown as InvalidItemError;

    expect(error.report).toContain("state.customer.card");
    expect(error.details?.report).toBe(error.report);
    expect(Object.keys(error)).not.toContain("report");
    expect(Object.keys(error.details ?? {})).not.toContain("report");
    const serialised = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(serialised).not.toHaveProperty("report");
    expect(serialised).not.toHaveProperty("details.report");
    expect(inspect(error)).not.toMatch(/\breport\b/);
  });
});

describe("DynamoDBRequestError", () => {
  it("copies at most a few hundred characters of the AWS message (the whole stays on cause)", () => {
    const cause = Object.assign(
      new Error(`One or more values were invalid: ${"x".repeat(100_000)}`),
      {
        name: "ValidationException",
      },
    );
    const error = new DynamoDBRequestError("getById", { sagaName: NAME, sagaId: SAGA_ID, cause });

    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toMatch(
      /^saga "OrderSaga" \(id "saga-1"\): getById failed: ValidationException: One or more values were invalid: x+…$/,
    );
    expect(error.cause).toBe(cause);
  });

  it("is short too when the store maps a refused request with a long message", async () => {
    const refused = Object.assign(new Error(`Refused: ${EMAIL} ${CARD} ${"x".repeat(100_000)}`), {
      name: "ValidationException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    const { send } = answeringSend(refused);
    const error = await rejection(customerStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(DynamoDBRequestError);
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(JSON.stringify(error).length).toBeLessThan(1000);
  });
});

describe("saga names and ids in messages", () => {
  it("are cut when long (the fields hold them whole)", () => {
    const sagaId = "i".repeat(800);
    const error = new InvalidStateError("state.total is NaN, which JSON cannot hold", {
      sagaName: NAME,
      sagaId,
    });
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(error.message).toContain(`(id "${"i".repeat(20)}`);
    expect(error.sagaId).toBe(sagaId);
  });
});
