import type { CallStatus } from './status-headers.js';

/** A request the server itself refuses (too large, not decodable), with the status that ends its call. */
export class CallStatusError extends Error {
  constructor(readonly status: CallStatus) {
    super(status.details);
  }
}
