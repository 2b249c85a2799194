/**
 * The run's trace: every event as one text line. All lines feed a 64-bit hash (two
 * independent 32-bit FNV-1a lanes) so determinism can be checked by comparing one string;
 * only the most recent `keepLines` lines are held in memory, for the failure artifact.
 */
export class Trace {
  private hashLow = 0x811c9dc5;
  private hashHigh = 0xcbf29ce4;
  private readonly lines: string[];
  private nextSlot = 0;
  private lineCount = 0;
  private readonly keepLines: number;
  private readonly labelHashes = new Map<string, number>();

  constructor(keepLines: number) {
    this.keepLines = Math.max(0, keepLines);
    this.lines = [];
  }

  get count(): number {
    return this.lineCount;
  }

  /**
   * An event line: time, label and up to three numbers. The numbers are hashed as numbers
   * and the line is only built when lines are kept, so a run without a kept trace allocates
   * nothing here; the digest is the same either way.
   */
  recordEvent(timeUs: number, label: string, first: number, second: number, third: number): void {
    let low = this.hashLow;
    let high = this.hashHigh;
    low = Math.imul(low ^ (timeUs | 0), 0x01000193);
    high = Math.imul(high ^ Math.floor(timeUs / 4294967296), 0x0100019d);
    let labelHash = this.labelHashes.get(label);
    if (labelHash === undefined) {
      labelHash = hashText(label);
      this.labelHashes.set(label, labelHash);
    }
    low = Math.imul(low ^ labelHash, 0x01000193);
    high = Math.imul(high ^ labelHash, 0x0100019d);
    low = Math.imul(low ^ first, 0x01000193);
    high = Math.imul(high ^ second, 0x0100019d);
    low = Math.imul(low ^ third, 0x01000193);
    this.hashLow = low;
    this.hashHigh = high;
    this.lineCount++;
    if (this.keepLines === 0) return;
    let line = `${timeUs} ${label}`;
    if (first >= 0) line += ` ${first}`;
    if (second >= 0) line += ` ${second}`;
    if (third >= 0) line += ` ${third}`;
    this.keep(line);
  }

  record(line: string): void {
    let low = this.hashLow;
    let high = this.hashHigh;
    for (let index = 0; index < line.length; index++) {
      const code = line.charCodeAt(index);
      low = Math.imul(low ^ code, 0x01000193);
      high = Math.imul(high ^ code, 0x0100019d);
    }
    // A line separator so that ["ab","c"] and ["a","bc"] hash differently.
    this.hashLow = Math.imul(low ^ 10, 0x01000193);
    this.hashHigh = Math.imul(high ^ 10, 0x0100019d);
    this.lineCount++;
    if (this.keepLines === 0) return;
    this.keep(line);
  }

  private keep(line: string): void {
    if (this.lines.length < this.keepLines) this.lines.push(line);
    else this.lines[this.nextSlot] = line;
    this.nextSlot = (this.nextSlot + 1) % this.keepLines;
  }

  /** Hex digest of every line recorded so far. */
  digest(): string {
    return (
      (this.hashHigh >>> 0).toString(16).padStart(8, '0') + (this.hashLow >>> 0).toString(16).padStart(8, '0')
    );
  }

  /** The kept lines, oldest first, with a header saying how many earlier lines were dropped. */
  text(): string {
    const kept =
      this.lines.length < this.keepLines
        ? this.lines
        : [...this.lines.slice(this.nextSlot), ...this.lines.slice(0, this.nextSlot)];
    const dropped = this.lineCount - kept.length;
    const header = dropped > 0 ? [`# ${dropped} earlier lines not kept (trace digest covers all)`] : [];
    return `${[...header, ...kept].join('\n')}\n`;
  }
}

function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++)
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}
