// Durations as exported: seconds, rounded to the microsecond. performance.now() differences carry
// float noise past that (0.00024130200000035983), which only lengthens every scrape.

export function roundMicros(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
