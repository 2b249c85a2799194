/** MeshOS enums by their names on the wire and back, one table per enum for server and client alike. */

/** A MeshOS enum's values by their names on the wire, and back. */
export interface WireEnum<Value extends string, Wire extends string> {
  readonly toPb: Readonly<Record<Value, Wire>>;
  /** Undefined for UNSPECIFIED, an unnamed number, or a name of no value. */
  fromPb(wire: string | number): Value | undefined;
}

export function wireEnum<Value extends string, Wire extends string>(
  toPb: Readonly<Record<Value, Wire>>,
): WireEnum<Value, Wire> {
  const back = new Map<string | number, Value>();
  for (const [value, wire] of Object.entries(toPb) as [Value, Wire][]) back.set(wire, value);
  return { toPb, fromPb: (wire) => back.get(wire) };
}

/** The acks policies, shared by every service that takes one (chains, daemons). */
export const ACKS_PB = wireEnum({ one: 'ACKS_ONE', quorum: 'ACKS_QUORUM', all: 'ACKS_ALL' } as const);
