/**
 * The `grpc-timeout` request header (gRPC over HTTP/2): at most 8 ASCII digits and a unit,
 * H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds), n (nanoseconds).
 */

const TIMEOUT_PATTERN = /^(\d{1,8})([HMSmun])$/;

const MILLISECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** The timeout in milliseconds (rounded up, so a tiny timeout still expires), or undefined when malformed. */
export function parseGrpcTimeout(header: string): number | undefined {
  const match = TIMEOUT_PATTERN.exec(header);
  if (match === null) return undefined;
  return Math.ceil(Number(match[1]) * (MILLISECONDS_PER_UNIT[match[2] as string] as number));
}
