export {
  BUILT_IN_KINDS,
  createKindCatalog,
  kindProblems,
  looksLikeKind,
  validateKindConfig,
} from './catalog.js';
export {
  COUNTER_KIND_NAME,
  CounterDaemon,
  type CounterState,
  counterKind,
  decodeCounterState,
  parseCounterPayload,
} from './counter.js';
export {
  decodeJournalState,
  encodeJournalState,
  JOURNAL_KIND_NAME,
  type JournalConfig,
  JournalDaemon,
  journalKind,
  validateJournalConfig,
} from './journal.js';
