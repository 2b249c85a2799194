/** A whole-number command-line flag's value, `fallback` when absent; out of range is an error. */
export function wholeNumberFlag(
  flag: string,
  text: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`--${flag} must be a whole number in [${min}, ${max}], got '${String(text)}'`);
  }
  return value;
}
