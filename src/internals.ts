/**
 * `@saga-bus/store-dynamodb/internals`: the store's building blocks, for its own tests, tools
 * and benchmarks, and for whoever needs to look under the hood (the item layout, the command
 * builders, the state encoding, the 0.2.x conversion).
 *
 * **Unstable.** Nothing here is covered by semantic versioning: any of it may change or go in
 * a minor or patch release. Applications should use the package's root export.
 *
 * @module @saga-bus/store-dynamodb/internals
 */
/** Pure builders of every command input the store sends (no client, no I/O). */
export * as commands from "./commands.js";
/** Validation of the key parts (saga name, saga id, correlation id) and their byte limits. */
export * as keys from "./keys.js";
export {
  DEFAULT_LAYOUT,
  MAX_SHARDS,
  shardedLayout,
  type IndexLayout,
  type ItemKey,
  type TableLayout,
} from "./layout.js";
export {
  CorrelationItemCodec,
  DynamoDBNumber,
  NonNegativeInteger,
  report,
  SagaItemCodec,
  StoredMetadataCodec,
  type SagaItem,
  type SagaItemAttributes,
} from "./codecs.js";
export {
  decodeSagaItem,
  encodeState,
  prepareState,
  type EncodedState,
  type PreparedState,
  type StatePath,
} from "./marshal.js";
export type { OutputOf, Perform, Recover } from "./request.js";
export { tableMismatch } from "./table.js";
export { MAX_ATTEMPTS } from "./cleanup.js";
export { MIGRATE_MAX_ATTEMPTS } from "./migrate.js";
export {
  convertLegacyItem,
  isLegacyItem,
  LEGACY_ISO_DATE,
  type LegacyReadOptions,
  type LegacySaga,
  type RawItem,
} from "./legacy.js";
