/**
 * How MeshOS's own services (Chains, Daemons) send a failure: the gRPC status from the service's
 * error table, the error's message as the status text, and the `MeshError` code and details in
 * the trailers, so the client rebuilds the same typed error. No message text is part of the
 * contract.
 */
import type { status } from '@grpc/grpc-js';

/** Trailer carrying the `MeshError` code of a failed call. */
export const ERROR_CODE_TRAILER = 'meshos-error-code';
/** Trailer carrying the error's details as JSON. */
export const ERROR_DETAILS_TRAILER = 'meshos-error-details';

/** What every service's error table says of a code: the gRPC status it is sent with. */
export interface ServiceErrorRow {
  readonly status: status;
}

/**
 * An error's details as the text of the details trailer: JSON with every character outside
 * printable ASCII written as a `\u` escape, because a metadata value must be printable ASCII
 * (grpc-js throws on anything else) and a detail often holds a name the client chose. `JSON.parse`
 * reads the escapes back, so nothing is lost.
 */
export function detailsTrailerText(details: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(details).replace(
    /[^\x20-\x7e]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
