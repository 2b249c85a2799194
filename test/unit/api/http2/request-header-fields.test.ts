/**
 * A request's header fields as the connection gathers them: what RFC 9113 sections 8.2 and 8.3
 * call malformed, found also when a field differs from one that passed at the same place in an
 * earlier block (checks of a field alone are remembered by place and string).
 */
import { describe, expect, it } from 'vitest';
import { RequestHeaderFields } from '../../../../src/api/http2/request-header-fields.js';

const REQUEST: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/etcdserverpb.KV/Put'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

function gather(
  fields: RequestHeaderFields,
  block: readonly [string, string][],
  trailers = false,
): string | undefined {
  fields.begin(trailers);
  for (const [name, value] of block) fields.field(name, value);
  fields.end();
  return fields.malformed;
}

describe('RequestHeaderFields', () => {
  it('gathers a well-formed request into one object, a repeated name as an array', () => {
    const fields = new RequestHeaderFields();
    expect(gather(fields, [...REQUEST, ['x-tag', 'a'], ['x-tag', 'b']])).toBeUndefined();
    expect({ ...fields.headers }).toEqual({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/etcdserverpb.KV/Put',
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-tag': ['a', 'b'],
    });
  });

  it('finds a bad field at a place where a good one passed before, and takes the good one again after', () => {
    const fields = new RequestHeaderFields();
    expect(gather(fields, REQUEST)).toBeUndefined();
    const badTe = REQUEST.map(([name, value]): [string, string] => [name, name === 'te' ? 'gzip' : value]);
    expect(gather(fields, badTe)).toBe('te other than "trailers"');
    const badName = REQUEST.map(([name, value]): [string, string] => [
      name === 'content-type' ? 'Content-Type' : name,
      value,
    ]);
    expect(gather(fields, badName)).toBe('a field name with upper case or a character not allowed');
    const badPath = REQUEST.map(([name, value]): [string, string] => [
      name,
      name === ':path' ? '/a\nb' : value,
    ]);
    expect(gather(fields, badPath)).toBe('a field value with NUL, CR, LF or surrounding white space');
    expect(gather(fields, REQUEST)).toBeUndefined();
  });

  it('checks the place of a field every time: the same fields in another order are malformed', () => {
    const fields = new RequestHeaderFields();
    expect(gather(fields, REQUEST)).toBeUndefined();
    expect(gather(fields, [...REQUEST.slice(3), ...REQUEST.slice(0, 3)])).toBe(
      'a pseudo-header after a regular field',
    );
    expect(gather(fields, [REQUEST[0]!, ...REQUEST])).toBe('a pseudo-header twice');
    expect(gather(fields, REQUEST.slice(1))).toBe('a request without :method, :scheme or :path');
  });

  it('takes trailers without pseudo-headers and refuses trailers with one', () => {
    const fields = new RequestHeaderFields();
    expect(gather(fields, [['x-checksum', '1']], true)).toBeUndefined();
    expect(gather(fields, [[':path', '/late']], true)).toBe('a pseudo-header in trailers');
  });
});
