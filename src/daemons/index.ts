// The daemons layer of issue 15: kinds (built-in and loaded from modules), their catalog, and
// the shapes the node's daemons service and the API share. See docs/DAEMONS.md.
export {
  DaemonModuleLoadError,
  DaemonPayloadError,
  DaemonRecordDecodeError,
  DaemonStateInvalidError,
  JournalFullError,
} from './errors.js';
export * from './kinds/index.js';
export * from './limits.js';
export {
  decodeInboundEventRecord,
  decodeOutputRecord,
  encodeInboundEventRecord,
  encodeOutputRecord,
  MAX_INBOUND_RECORD_HEADER_BYTES,
  MAX_OUTPUT_RECORD_HEADER_BYTES,
} from './record-codec.js';
export type * from './types.js';
