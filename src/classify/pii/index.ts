// Personal-identifier detection: what identifiers a text holds and whether they point at the protected
// population. The bulk tracker (../bulk) hashes the `normalized` forms; nothing here stores anything.
export { detectPii, countPii, PII_KINDS } from './detect.js';
export type { PiiKind, PiiFinding, PiiCounts, DetectOptions } from './detect.js';
export { COUNTRY_REGIONS } from './geo.js';
export type { GeoRegion, GeoShape, GeoBox, GeoPolygon } from './geo.js';
