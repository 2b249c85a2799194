/**
 * The `:authority` of a request, as Node's HTTP/2 server (nghttp2) accepts it: the host[:port]
 * of RFC 3986 and nothing else. etcd's Go client sends a whole endpoint URL
 * (`http://127.0.0.1:2379`) as the authority of its per-endpoint maintenance calls; etcd accepts
 * that, nghttp2 resets the stream. `repairAuthority` turns such a value into one nghttp2 accepts.
 */

/** Characters nghttp2 allows in an authority; '@' (user info) is left out, as newer nghttp2 does. */
const AUTHORITY_PATTERN = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]%]*$/;

export function isValidAuthority(value: string): boolean {
  return AUTHORITY_PATTERN.test(value);
}

/**
 * The host[:port] part of a URL-like authority (scheme, user info and path dropped), or
 * undefined when even that is not a valid authority (the header is then left out: it is
 * optional in an HTTP/2 request).
 */
export function repairAuthority(value: string): string | undefined {
  const afterScheme = value.includes('://') ? value.slice(value.indexOf('://') + 3) : value;
  const slash = afterScheme.indexOf('/');
  const hostPart = slash < 0 ? afterScheme : afterScheme.slice(0, slash);
  const host = hostPart.slice(hostPart.lastIndexOf('@') + 1);
  return isValidAuthority(host) ? host : undefined;
}
