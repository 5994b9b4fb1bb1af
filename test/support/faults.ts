/**
 * Faults that DynamoDB Local never produces, injected at the HTTP layer of a real client so
 * that the AWS SDK's own retries run as they do in production:
 *
 * - a lost response: the request reaches DynamoDB Local and is applied, then the answer is
 *   dropped (a reset connection), and the SDK retries the very same request;
 * - throttling: DynamoDB's `ThrottlingException` answer, without reaching the server.
 *
 * Only a request's first attempt is faulted, so the SDK's retry always gets through and a
 * test can count on every logical request being applied exactly once.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Readable } from "node:stream";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";

export { seededRandom } from "../../workload/deliveries";

type HandleArgs = Parameters<NodeHttpHandler["handle"]>;
type HandleResult = Awaited<ReturnType<NodeHttpHandler["handle"]>>;

/** How often each fault hits a first attempt, and which operations it may hit. */
export interface FaultPlan {
  /** Probability that a first attempt is applied and its answer dropped. */
  readonly lostResponse: number;
  /** Probability that a first attempt is answered with throttling, unapplied. */
  readonly throttle: number;
  /** DynamoDB operations (`X-Amz-Target` suffix, e.g. `UpdateItem`) that may be faulted. */
  readonly operations?: readonly string[];
  /** Runs after a request was applied and before its answer is dropped (another writer). */
  readonly beforeLoss?: () => Promise<void>;
  /** Operations whose answers may be lost (default: those of `operations`). */
  readonly lostResponseOperations?: readonly string[];
  /** Source of randomness (a seeded one makes a run repeatable). */
  readonly random?: () => number;
}

/** What was injected, by operation. */
export interface FaultCounts {
  readonly lostResponses: Map<string, number>;
  readonly throttles: Map<string, number>;
  readonly requests: Map<string, number>;
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

const throttled = (): HandleResult => {
  const body = JSON.stringify({
    __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    message: "Rate of requests exceeds the allowed throughput (injected)",
  });
  return {
    response: {
      statusCode: 400,
      reason: "Bad Request",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "injected" },
      body: Readable.from([Buffer.from(body)]),
    },
  } as HandleResult;
};

const drain = async (body: unknown): Promise<void> => {
  if (body instanceof Readable) for await (const chunk of body) void chunk;
};

/** An HTTP handler that injects the faults of `plan` into first attempts. */
export class FaultyHttpHandler extends NodeHttpHandler {
  readonly counts: FaultCounts = {
    lostResponses: new Map(),
    throttles: new Map(),
    requests: new Map(),
  };
  readonly #plan: FaultPlan;
  readonly #random: () => number;

  constructor(plan: FaultPlan) {
    super();
    this.#plan = plan;
    this.#random = plan.random ?? Math.random;
  }

  override async handle(...[request, options]: HandleArgs): Promise<HandleResult> {
    const operation =
      String(request.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() ?? "";
    const firstAttempt = /attempt=1;/.test(String(request.headers["amz-sdk-request"] ?? ""));
    const eligible =
      firstAttempt &&
      (this.#plan.operations === undefined || this.#plan.operations.includes(operation));
    bump(this.counts.requests, operation);
    const roll = eligible ? this.#random() : 1;
    if (roll < this.#plan.throttle) {
      bump(this.counts.throttles, operation);
      return throttled();
    }
    const result = await super.handle(request, options);
    const losable =
      this.#plan.lostResponseOperations === undefined ||
      this.#plan.lostResponseOperations.includes(operation);
    if (losable && roll < this.#plan.throttle + this.#plan.lostResponse) {
      // Applied by DynamoDB Local; the answer never arrives.
      await drain(result.response.body);
      await this.#plan.beforeLoss?.();
      bump(this.counts.lostResponses, operation);
      throw Object.assign(new Error("socket hang up (injected: response lost)"), {
        code: "ECONNRESET",
      });
    }
    return result;
  }
}

/**
 * Clients on the DynamoDB Local of the global setup, through a faulty HTTP handler.
 * `maxAttempts: 1` makes the SDK give up at once, as it does when its retries are used up.
 */
export const faultyClients = (plan: FaultPlan, { maxAttempts = 3 } = {}) => {
  const handler = new FaultyHttpHandler(plan);
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: process.env.DYNAMODB_ENDPOINT,
    requestHandler: handler,
    // By default enough attempts that a faulted first attempt is followed by a clean one.
    maxAttempts,
  });
  return { handler, client, docClient: DynamoDBDocumentClient.from(client) };
};
