/**
 * @saga-bus/store-dynamodb: an AWS DynamoDB saga store for saga-bus.
 *
 * Start with `createDynamoDBSagaStore` (functional) or `DynamoDBSagaStore` (class), and
 * `createTable` / `getTableSchema` for the table.
 *
 * @module @saga-bus/store-dynamodb
 */
export type { SagaState, SagaStateMetadata, SagaStore } from "./contract.js";
export { createDynamoDBSagaStore, type DynamoDBSagaStoreFunctions } from "./store.js";
export type { FindByNameOptions, FindByNameResult } from "./listing.js";
export { MAX_TTL_SECONDS, type Consistency, type DynamoDBSagaStoreDeps } from "./options.js";
export type { EnsureRequest, EnsureStep } from "./ensure-gate.js";
export {
  sendVia,
  type CommandName,
  type DocumentClientLike,
  type RequestContext,
  type RequestEnd,
  type RequestObserver,
  type RequestStart,
  type Send,
  type StoreCommand,
} from "./request.js";
export type { CleanupOptions, CleanupProgress } from "./cleanup.js";
export { DynamoDBSagaStore, type DynamoDBSagaStoreOptions } from "./class.js";
export { DEFAULT_INDEX_NAMES } from "./commands.js";
export {
  createTable,
  deleteTable,
  ensureTable,
  ensureTableFirst,
  getTableSchema,
  TTL_ATTRIBUTE,
  waitForTable,
  type TableChange,
  type CreateTableInput,
  type CreateTableOptions,
  type EnsureTableFirstOptions,
  type ProvisionedThroughput,
  type TableClient,
  type TableSchema,
  type TableSchemaOptions,
} from "./table.js";
export { DateFromISOString, SagaMetadataCodec, ValidDate } from "./codecs.js";
export { MAX_STATE_DEPTH, type StateCodec } from "./marshal.js";
export {
  ConfigurationError,
  DynamoDBRequestError,
  InvalidItemError,
  InvalidKeyError,
  InvalidStateError,
  SagaAlreadyExistsError,
  SagaStoreError,
  StateTooLargeError,
  UnmigratedTableError,
  type SagaStoreErrorCode,
  type SagaStoreErrorInit,
} from "./errors.js";
export {
  ConcurrencyError,
  loadRetryableErrors,
  TransientError,
  type ConcurrencyErrorClass,
  type RetryableErrorClasses,
  type RetryableErrorsOption,
  type TransientErrorClass,
} from "./core-link.js";
export { isRetryable } from "./failures.js";
export { MAX_ITEM_BYTES } from "./size.js";
export type { Timing } from "./timing.js";
export {
  type StandardSchemaIssue,
  type StandardSchemaLike,
  type StandardSchemaResult,
  type StateValidator,
} from "./validation.js";
export {
  createRequestMeter,
  meterSend,
  type Meter,
  type MeterEntry,
  type MeteredSend,
  type RequestMeter,
} from "./metering.js";
export {
  migrateTable,
  type MigrateOptions,
  type MigrateProgress,
  type MigrateSkip,
  type MigrateSummary,
} from "./migrate.js";
