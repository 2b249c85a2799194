/**
 * A token bucket of client resets of open streams ("rapid reset", CVE-2023-44487: each stream
 * opened costs the server a call): `CLIENT_RESETS_BURST` at once, then `CLIENT_RESETS_PER_SECOND`
 * (nghttp2's defaults).
 */
import { CLIENT_RESETS_BURST, CLIENT_RESETS_PER_SECOND } from './frame-types.js';

export class ResetRateLimit {
  private tokens = CLIENT_RESETS_BURST;
  private tokensAtMs = 0;

  /** Takes one reset at `nowMs`; answers false when the client resets faster than allowed. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(
      CLIENT_RESETS_BURST,
      this.tokens + ((nowMs - this.tokensAtMs) * CLIENT_RESETS_PER_SECOND) / 1_000,
    );
    this.tokensAtMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
