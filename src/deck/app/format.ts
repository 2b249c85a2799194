/** Small text helpers the views share. */
export const ago = (wallMs: number | undefined, nowMs: number): string => {
  if (wallMs === undefined || wallMs === 0) return '-';
  const seconds = Math.round((nowMs - wallMs) / 1000);
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return new Date(wallMs).toISOString().replace('T', ' ').slice(0, 19);
};

export const until = (wallMs: number, nowMs: number): string => {
  const seconds = Math.max(0, Math.round((wallMs - nowMs) / 1000));
  return seconds < 120 ? `${seconds}s left` : `${Math.round(seconds / 60)}m left`;
};

export const rate = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(1));
