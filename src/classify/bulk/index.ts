// Bulk-collection signal: how many distinct protected persons each principal has sent identifiers of
// within a sliding window, kept as HyperLogLog sketches over keyed hashes (no identifier is stored).
export { createBulkTracker, keyedHash } from './tracker.js';
export type { BulkTracker, BulkTrackerOptions, SketchStore } from './tracker.js';
export { HyperLogLog, DEFAULT_PRECISION, estimateFromRegisters } from './hll.js';
