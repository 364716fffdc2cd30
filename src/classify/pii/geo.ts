// Which country a coordinate falls in, offline, to the precision that matters here: "is this point in the
// protected population's territory?". Shapes are hand-drawn coarse outlines (tens of km near borders),
// not survey data; a point within ~50 km of a land border or in a shared lake may land on either side.
// A GIS library with real boundaries would be megabytes for a question a few dozen vertices answer.

/** [minLat, minLon, maxLat, maxLon] */
export type GeoBox = readonly [number, number, number, number];
/** Vertices as [lat, lon]; closed implicitly. Must not cross the antimeridian (split it into two). */
export type GeoPolygon = readonly (readonly [number, number])[];
export type GeoShape = { box: GeoBox } | { polygon: GeoPolygon };
export interface GeoRegion {
  include: readonly GeoShape[];
  exclude?: readonly GeoShape[];
}

// The 48 contiguous states: Mexican border west to east, the Gulf and Atlantic coasts (through the sea
// where no other country is near), then the Canadian border east to west along the St Lawrence, the
// lake midlines and the 49th parallel, then down the Pacific coast.
const CONUS: GeoPolygon = [
  [32.53, -117.12], [32.72, -114.72], [31.33, -111.07], [31.33, -108.21], [31.78, -108.21], [31.78, -106.53],
  [31.75, -106.49], [31.66, -106.3], [31.1, -105.6], [30.6, -104.95], [29.56, -104.4], [29.0, -103.1], [29.18, -102.96],
  [29.75, -101.4], [29.36, -100.9], [28.7, -100.5], [27.5, -99.5], [26.4, -99.0], [26.05, -98.2],
  [25.9, -97.5], [25.96, -97.15], [25.9, -97.0], [24.4, -83.0], [24.4, -81.8], [24.9, -80.4], [25.5, -80.05],
  [26.9, -79.95], [28.4, -80.4], [30.5, -81.2], [32.0, -80.6], [33.8, -78.0], [35.2, -75.3], [37.0, -75.6],
  [38.9, -74.8], [40.4, -73.8], [40.9, -71.8], [41.25, -69.9], [42.1, -69.9], [44.2, -68.0], [44.8, -66.9],
  [45.2, -67.3], [45.6, -67.8], [47.07, -67.79], [47.36, -68.33], [47.46, -69.05], [47.46, -69.22],
  [46.4, -70.05], [45.3, -71.08], [45.01, -71.5], [45.01, -74.73], [44.35, -75.9], [44.1, -76.4],
  [43.63, -77.2], [43.63, -78.7], [43.45, -79.2], [43.26, -79.06], [42.9, -78.93], [42.35, -80.1],
  [42.15, -81.3], [41.7, -82.5], [42.05, -83.13], [42.35, -82.95], [42.45, -82.75], [43.0, -82.42],
  [44.0, -82.3], [45.2, -82.4], [45.85, -83.5], [46.1, -83.9], [46.5, -84.35], [47.35, -85.85],
  [47.95, -87.0], [48.3, -88.4], [48.0, -89.3], [48.0, -89.6], [48.2, -90.8], [48.1, -91.5], [48.6, -93.4],
  [48.7, -94.6], [49.0, -95.15], [49.0, -123.05], [48.3, -123.25], [48.5, -124.8], [46.3, -124.2],
  [43.0, -124.7], [40.4, -124.5], [37.5, -122.6], [34.4, -120.8], [32.53, -118.0],
];

// Alaska east of the antimeridian: the 141st meridian, the panhandle, the Gulf of Alaska, the Bering Sea
// up the maritime line to the Bering Strait. The western Aleutians are a separate box.
const ALASKA: GeoPolygon = [
  [72.0, -168.9], [72.0, -141.0], [60.3, -141.0], [59.85, -137.5], [59.62, -135.1], [58.6, -133.4],
  [57.5, -132.2], [56.4, -131.0], [56.0, -130.0], [54.65, -130.7], [54.6, -133.8], [53.5, -140.0],
  [51.0, -160.0], [51.0, -180.0], [60.0, -180.0], [65.6, -168.9],
];

const US_SHAPES: GeoShape[] = [
  { polygon: CONUS },
  { polygon: ALASKA },
  { box: [51.0, 172.0, 53.2, 180.0] }, // western Aleutians
  { box: [18.8, -160.4, 22.4, -154.7] }, // main Hawaiian islands
  { box: [22.4, -178.5, 28.5, -160.4] }, // north-western Hawaiian islands
];

/** Coarse outlines per ISO 3166-1 alpha-2 code. Deployments elsewhere can pass their own regions. */
export const COUNTRY_REGIONS: Readonly<Record<string, GeoRegion>> = {
  US: { include: US_SHAPES },
  PR: { include: [{ box: [17.85, -67.95, 18.55, -65.2] }] },
  VI: { include: [{ box: [18.28, -65.05, 18.4, -64.66] }, { box: [17.66, -64.92, 17.8, -64.55] }] },
  GU: { include: [{ box: [13.2, 144.6, 13.7, 145.0] }] },
  MP: { include: [{ box: [14.0, 144.8, 20.6, 146.1] }] },
  AS: { include: [{ box: [-14.6, -170.9, -14.1, -169.4] }] },
  // Canada as its bounding box minus the US outlines (Saint-Pierre-et-Miquelon and west Greenland
  // coast are inside it; that is the accepted error).
  CA: { include: [{ box: [41.6, -141.1, 83.2, -52.5] }], exclude: US_SHAPES },
  GB: {
    include: [
      { box: [49.9, -5.8, 55.8, 1.8] }, // England and Wales
      { box: [54.6, -5.2, 55.45, -2.0] }, // southern Scotland
      { box: [55.45, -7.7, 60.9, -0.7] }, // Scotland
      { box: [54.05, -7.6, 55.25, -5.4] }, // Northern Ireland
    ],
  },
  AU: { include: [{ box: [-43.7, 113.0, -10.6, 153.7] }] },
  NZ: { include: [{ box: [-47.4, 166.3, -34.3, 178.7] }] },
};

function inShape(lat: number, lon: number, s: GeoShape): boolean {
  if ('box' in s) {
    const [a, b, c, d] = s.box;
    return lat >= a && lat <= c && lon >= b && lon <= d;
  }
  // Even-odd ray cast along the latitude line, x = lon, y = lat.
  const p = s.polygon;
  let inside = false;
  for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
    const [yi, xi] = p[i]!;
    const [yj, xj] = p[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function inRegion(lat: number, lon: number, r: GeoRegion): boolean {
  if (!r.include.some((s) => inShape(lat, lon, s))) return false;
  return !(r.exclude ?? []).some((s) => inShape(lat, lon, s));
}

/** The first of `countries` whose region holds the point, if any. */
export function countryOf(lat: number, lon: number, countries: readonly string[], regions = COUNTRY_REGIONS): string | undefined {
  for (const c of countries) {
    const r = regions[c];
    if (r && inRegion(lat, lon, r)) return c;
  }
  return undefined;
}
