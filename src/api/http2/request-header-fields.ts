/**
 * The fields of one decoded header block gathered into a request's header object, as node:http2
 * gives them (pseudo-headers included, a repeated name as an array), checked as they come for
 * what makes a request malformed (RFC 9113 sections 8.1, 8.2 and 8.3). A malformed request is a
 * stream error of type PROTOCOL_ERROR: the connection resets that stream only, as nghttp2 and
 * Go's server do.
 *
 * The checks run per field while the block decodes, on the strings the decoder hands over: no
 * second pass, and nothing allocated for a well-formed request (the reasons are constants).
 */
import type { IncomingHttpHeaders } from 'node:http2';

/**
 * A request's header object: no inherited members (its prototype is an empty object without a
 * prototype), yet made by a constructor, so that V8 keeps it a fast object with a shared shape
 * (an `Object.create(null)` object starts as a dictionary).
 */
const RequestHeaders = function RequestHeaders() {} as unknown as new () => IncomingHttpHeaders;
(RequestHeaders as unknown as { prototype: object }).prototype = Object.create(null) as object;

const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;

/** The request pseudo-headers (RFC 9113 section 8.3.1), one bit each. */
const METHOD = 1;
const SCHEME = 2;
const AUTHORITY = 4;
const PATH = 8;
/**
 * Every request names these. A CONNECT request (section 8.5) would omit :scheme and :path; this
 * server serves gRPC, which never sends CONNECT, so such a request is refused as malformed too.
 */
const REQUIRED_PSEUDO_HEADERS = METHOD | SCHEME | PATH;

/** The pseudo-header's bit, or 0 for any other name; told apart by length first (one comparison). */
function pseudoHeaderBit(name: string): number {
  switch (name.length) {
    case 5:
      return name === ':path' ? PATH : 0;
    case 7:
      return name === ':method' ? METHOD : name === ':scheme' ? SCHEME : 0;
    case 10:
      return name === ':authority' ? AUTHORITY : 0;
    default:
      return 0;
  }
}

/** Characters a regular field name may not hold (section 8.2.1), colon included. */
const FORBIDDEN_IN_NAME = /[\0-\x20A-Z:\x7f-\uffff]/;

/**
 * A field name as section 8.2.1 allows it: no control characters, space, uppercase letters,
 * DEL or non-ASCII (a name in upper case is malformed, not lowered), and no colon (only a
 * pseudo-header starts with one, and those are matched by their whole name).
 */
function validName(name: string): boolean {
  return name.length > 0 && !FORBIDDEN_IN_NAME.test(name);
}

/**
 * NUL, CR or LF anywhere in a value. A regular expression scans a value about twice as fast as
 * a `charCodeAt` loop (measured on captured etcd client blocks): values are most of a block.
 */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

/** A field value as section 8.2.1 allows it: no NUL, CR or LF, no space or tab at either end. */
function validValue(value: string): boolean {
  const length = value.length;
  if (length === 0) return true;
  let code = value.charCodeAt(0);
  if (code === SPACE || code === TAB) return false;
  code = value.charCodeAt(length - 1);
  if (code === SPACE || code === TAB) return false;
  return !FORBIDDEN_IN_VALUE.test(value);
}

/**
 * Why a regular field makes the message malformed, or undefined. Connection-specific fields
 * (section 8.2.2) are found by their length first: most names are none of these lengths.
 */
function connectionSpecific(name: string, value: string): string | undefined {
  switch (name.length) {
    case 2:
      // TE may say only that the client takes trailers (gRPC clients send exactly this).
      return name === 'te' && value !== 'trailers' ? 'te other than "trailers"' : undefined;
    case 7:
      return name === 'upgrade' ? 'a connection-specific field (upgrade)' : undefined;
    case 10:
      return name === 'connection' || name === 'keep-alive'
        ? 'a connection-specific field (connection, keep-alive)'
        : undefined;
    case 16:
      return name === 'proxy-connection' ? 'a connection-specific field (proxy-connection)' : undefined;
    case 17:
      return name === 'transfer-encoding' ? 'a connection-specific field (transfer-encoding)' : undefined;
    default:
      return undefined;
  }
}

/**
 * Fields remembered by their place in the block as having passed the checks that hang on the
 * field alone (its name's and value's characters, connection-specific names). A client sends
 * much the same block for every request, and the decoder hands over the same string instances
 * for fields it indexed or cached, so these checks are mostly one identity comparison.
 */
const REMEMBERED_FIELDS = 16;

export class RequestHeaderFields {
  /** The header object of the block being decoded. */
  headers: IncomingHttpHeaders = new RequestHeaders();
  /** Why the block is malformed (RFC 9113 section 8.1.1), or undefined while it is not. */
  malformed: string | undefined = undefined;
  /** The block is trailers (no pseudo-header may come, none is required). */
  private trailers = false;
  private pseudoHeadersSeen = 0;
  private regularSeen = false;
  /** The place of the next field in the block. */
  private position = 0;
  private readonly checkedNames: (string | undefined)[] = new Array(REMEMBERED_FIELDS).fill(undefined);
  private readonly checkedValues: (string | undefined)[] = new Array(REMEMBERED_FIELDS).fill(undefined);
  /** Passed to the HPACK decoder: called per field, in order. */
  readonly field = (name: string, value: string): void => this.add(name, value);

  /** Starts a new block: a request's headers, or the trailers of an open request. */
  begin(trailers: boolean): void {
    this.headers = new RequestHeaders();
    this.malformed = undefined;
    this.trailers = trailers;
    this.pseudoHeadersSeen = 0;
    this.regularSeen = false;
    this.position = 0;
  }

  /** After the last field: a request's headers must have named its method, scheme and path. */
  end(): void {
    if (this.malformed !== undefined || this.trailers) return;
    if ((this.pseudoHeadersSeen & REQUIRED_PSEUDO_HEADERS) !== REQUIRED_PSEUDO_HEADERS)
      this.malformed = 'a request without :method, :scheme or :path';
  }

  private add(name: string, value: string): void {
    if (this.malformed !== undefined) return;
    const pseudo = name.charCodeAt(0) === COLON;
    // What depends on the field's place among the others is checked every time...
    let malformed = pseudo ? this.pseudoHeader(name, value) : this.regularField();
    // ...what depends on the field alone, only when it is not the one that passed here before.
    const position = this.position++;
    if (
      malformed === undefined &&
      (position >= REMEMBERED_FIELDS ||
        this.checkedNames[position] !== name ||
        this.checkedValues[position] !== value)
    ) {
      malformed = pseudo ? pseudoHeaderValue(value) : fieldAlone(name, value);
      if (malformed === undefined && position < REMEMBERED_FIELDS) {
        this.checkedNames[position] = name;
        this.checkedValues[position] = value;
      }
    }
    if (malformed !== undefined) {
      this.malformed = malformed;
      return;
    }
    const headers = this.headers;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value] as string[];
  }

  private pseudoHeader(name: string, value: string): string | undefined {
    if (this.trailers) return 'a pseudo-header in trailers';
    if (this.regularSeen) return 'a pseudo-header after a regular field';
    const bit = pseudoHeaderBit(name);
    if (bit === 0)
      return name === ':status' ? 'a response pseudo-header in a request' : 'an unknown pseudo-header';
    if ((this.pseudoHeadersSeen & bit) !== 0) return 'a pseudo-header twice';
    this.pseudoHeadersSeen |= bit;
    // An empty :path is not allowed for http or https URIs (section 8.3.1).
    if (bit === PATH && value.length === 0) return 'an empty :path';
    return undefined;
  }

  private regularField(): undefined {
    this.regularSeen = true;
    return undefined;
  }
}

function pseudoHeaderValue(value: string): string | undefined {
  return validValue(value) ? undefined : 'a field value with NUL, CR, LF or surrounding white space';
}

/** The checks of a regular field that hang on its name and value alone. */
function fieldAlone(name: string, value: string): string | undefined {
  if (!validName(name)) return 'a field name with upper case or a character not allowed';
  if (!validValue(value)) return 'a field value with NUL, CR, LF or surrounding white space';
  return connectionSpecific(name, value);
}
