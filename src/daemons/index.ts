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
export type * from './types.js';
