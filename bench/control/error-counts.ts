/** Distinct error messages kept; later new ones are only counted. */
const MAX_DISTINCT_ERRORS = 20;
/** Longest message kept per kind of error. */
const MAX_ERROR_MESSAGE_CHARACTERS = 200;

/** Errors by where they happened and their message, bounded, for the bench's report. */
export class ErrorCounts {
  private readonly counts = new Map<string, number>();
  private otherErrors = 0;

  add(where: string, error: unknown): void {
    // Ids and counts vary per call; the kind of error is what is counted.
    const text = error instanceof Error ? error.message : String(error);
    const message = `${where}: ${text.replace(/\d+/g, 'N')}`.slice(0, MAX_ERROR_MESSAGE_CHARACTERS);
    const count = this.counts.get(message);
    if (count !== undefined) this.counts.set(message, count + 1);
    else if (this.counts.size < MAX_DISTINCT_ERRORS) this.counts.set(message, 1);
    else this.otherErrors += 1;
  }

  get total(): number {
    let total = this.otherErrors;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  describe(): string {
    if (this.total === 0) return 'none';
    const lines = [...this.counts].map(([message, count]) => `${count} x ${message}`);
    if (this.otherErrors > 0) lines.push(`${this.otherErrors} x (other messages)`);
    return lines.join('; ');
  }
}
