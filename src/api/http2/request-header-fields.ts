/**
 * The fields of one decoded header block gathered into a request's header object, as node:http2
 * gives them (pseudo-headers included, a repeated name as an array), with what makes the request
 * malformed noted as the fields come (RFC 9113 section 8.3: pseudo-headers before regular fields).
 */
import type { IncomingHttpHeaders } from 'node:http2';

/**
 * A request's header object: no inherited members (its prototype is an empty object without a
 * prototype), yet made by a constructor, so that V8 keeps it a fast object with a shared shape
 * (an `Object.create(null)` object starts as a dictionary).
 */
const RequestHeaders = function RequestHeaders() {} as unknown as new () => IncomingHttpHeaders;
(RequestHeaders as unknown as { prototype: object }).prototype = Object.create(null) as object;

export class RequestHeaderFields {
  /** The header object of the block being decoded. */
  headers: IncomingHttpHeaders = new RequestHeaders();
  /** A pseudo-header came after a regular field. */
  misordered = false;
  private regularSeen = false;
  /** Passed to the HPACK decoder: called per field, in order. */
  readonly field = (name: string, value: string): void => this.add(name, value);

  /** Starts a new block. */
  begin(): void {
    this.headers = new RequestHeaders();
    this.misordered = false;
    this.regularSeen = false;
  }

  private add(name: string, value: string): void {
    const headers = this.headers;
    if (name.charCodeAt(0) !== 0x3a /* : */) this.regularSeen = true;
    else if (this.regularSeen) this.misordered = true;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value] as string[];
  }
}
