/** Waiting on conditions in tests: poll what the test needs, with a deadline, instead of sleeping. */

/** How often `until` looks at the condition it waits for. */
const POLL_INTERVAL_MS = 20;
/** The deadline when a test names none. */
export const DEFAULT_UNTIL_TIMEOUT_MS = 20_000;

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_UNTIL_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
