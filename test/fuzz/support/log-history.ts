/**
 * What a log may hold after a crash, for the torn-write fuzzers: every record acknowledged
 * (synced) before the crash, in order, and of the operation in flight either nothing or a prefix
 * of what it wrote. An operation that replaces the log from position `floor` on (a truncation, an
 * append over a conflicting tail) may also leave any prefix of the old log down to `floor`.
 */
export interface InFlight<Record> {
  /** The log as the operation would leave it. */
  readonly log: readonly Record[];
  /** Records below this position are untouched by the operation. */
  readonly floor: number;
}

/** Throws (an untyped error: the fuzzer's failure) when `recovered` is not a state the crash allows. */
export function checkRecoveredLog<Record>(
  what: string,
  recovered: readonly Record[],
  acknowledged: readonly Record[],
  inFlight: InFlight<Record> | undefined,
  same: (a: Record, b: Record) => boolean,
): void {
  const isPrefixOf = (log: readonly Record[], floor: number) =>
    recovered.length >= floor &&
    recovered.length <= log.length &&
    recovered.every((record, position) => same(record, log[position]!));
  const allowed =
    inFlight === undefined
      ? isPrefixOf(acknowledged, acknowledged.length)
      : isPrefixOf(acknowledged, inFlight.floor) || isPrefixOf(inFlight.log, inFlight.floor);
  if (!allowed) {
    throw new Error(
      `${what}: recovered ${recovered.length} records that are not the ${acknowledged.length} acknowledged ones` +
        (inFlight === undefined ? '' : ` nor the in-flight write's prefix from ${inFlight.floor}`),
    );
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}

/** A record's payload: recognisable by position and version, of a chosen size. */
export function payloadOf(label: string, size: number): Uint8Array {
  const text = `${label};`;
  return new TextEncoder().encode(
    text.repeat(1 + Math.floor(size / text.length)).slice(0, Math.max(1, size)),
  );
}
