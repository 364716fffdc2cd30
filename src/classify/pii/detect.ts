// Detectors for identifiers that point at a person, and whether that person belongs to the protected
// population (taxonomy: the US-person definition of EO 12333 §3.5(k); other deployments configure their
// own). Only offsets, kinds and canonical forms leave this file; raw matched text is never logged.
import { cardBrand, imeiPrefixPlausible, isTestPan, luhnValid, ssnValid } from './checks.js';
import { COUNTRY_REGIONS, countryOf, type GeoRegion } from './geo.js';
import { formatIp, inCidr, isPublicIp, parseCidr, parseIPv4, parseIPv6 } from './ip.js';
import { findPhones } from './phone.js';
import { RedlineError } from '../../errors.js';

export type PiiKind =
  | 'email' | 'phone' | 'ssn' | 'ip' | 'imei' | 'plate' | 'coordinates' | 'address' | 'passport' | 'credit_card';

export const PII_KINDS: readonly PiiKind[] = [
  'email', 'phone', 'ssn', 'ip', 'imei', 'plate', 'coordinates', 'address', 'passport', 'credit_card',
];

export interface PiiFinding {
  kind: PiiKind;
  /** Canonical form, the input to keyed hashing: lower-case e-mail, E.164 phone, digits-only SSN, ... */
  normalized: string;
  /** UTF-16 offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** Points at the protected population (see DetectOptions.unknownOrigin for identifiers with no country). */
  protected: boolean;
  /**
   * ISO 3166-1 alpha-2 country the identifier points at, when the identifier itself says so (phone
   * plan, SSN, ccTLD, state, nationality word, configured CIDR). For coordinates it is set only inside a
   * protected country's outline; a coordinate outside them is foreign and never protected.
   */
  country?: string;
}

export interface PiiCounts {
  total: number;
  protected: number;
  byKind: Partial<Record<PiiKind, number>>;
}

export interface DetectOptions {
  /** ISO 3166-1 alpha-2 country whose population is protected. Default 'US'. */
  country?: string;
  /** Scan at most this many characters (UTF-16 units) from the start. Default 65,536. */
  maxChars?: number;
  /**
   * Countries counted as the protected population. Default: the country plus, for 'US', the inhabited
   * territories (PR, VI, GU, MP, AS) and minor outlying islands (UM), whose people are US persons too.
   */
  protectedCountries?: readonly string[];
  /** Address blocks (CIDR) whose IPs belong to the protected population, e.g. the national ISPs' ranges. */
  protectedCidrs?: readonly string[];
  /**
   * What to assume for identifiers that carry no country (e-mail on a generic domain, card numbers,
   * IMEIs, IPs outside protectedCidrs, plates and passports with no issuer named). Default 'unprotected',
   * following the presumption used in US targeting procedures that a person whose location is unknown is
   * not presumed a US person. A deployment that prefers recall sets 'protected'.
   */
  unknownOrigin?: 'protected' | 'unprotected';
  /** Replaces the built-in country outlines used for coordinates. */
  regions?: Readonly<Record<string, GeoRegion>>;
}

const DEFAULT_MAX_CHARS = 64 * 1024;
const TERRITORIES: Readonly<Record<string, readonly string[]>> = { US: ['US', 'PR', 'VI', 'GU', 'MP', 'AS', 'UM'] };

const US_STATES: Readonly<Record<string, string>> = {
  AL: 'alabama', AK: 'alaska', AZ: 'arizona', AR: 'arkansas', CA: 'california', CO: 'colorado', CT: 'connecticut',
  DE: 'delaware', DC: 'district of columbia', FL: 'florida', GA: 'georgia', HI: 'hawaii', ID: 'idaho',
  IL: 'illinois', IN: 'indiana', IA: 'iowa', KS: 'kansas', KY: 'kentucky', LA: 'louisiana', ME: 'maine',
  MD: 'maryland', MA: 'massachusetts', MI: 'michigan', MN: 'minnesota', MS: 'mississippi', MO: 'missouri',
  MT: 'montana', NE: 'nebraska', NV: 'nevada', NH: 'new hampshire', NJ: 'new jersey', NM: 'new mexico',
  NY: 'new york', NC: 'north carolina', ND: 'north dakota', OH: 'ohio', OK: 'oklahoma', OR: 'oregon',
  PA: 'pennsylvania', RI: 'rhode island', SC: 'south carolina', SD: 'south dakota', TN: 'tennessee', TX: 'texas',
  UT: 'utah', VT: 'vermont', VA: 'virginia', WA: 'washington', WV: 'west virginia', WI: 'wisconsin', WY: 'wyoming',
  PR: 'puerto rico', VI: 'virgin islands', GU: 'guam', MP: 'northern mariana islands', AS: 'american samoa',
};
const STATE_BY_NAME = new Map(Object.entries(US_STATES).map(([code, name]) => [name, code]));
const STATE_NAMES_RE = Object.values(US_STATES).map((n) => n.replace(/ /g, '\\s+')).join('|');
const TERRITORY_CODES = new Set(['PR', 'VI', 'GU', 'MP', 'AS']);
function countryOfState(code: string): string {
  return TERRITORY_CODES.has(code) ? code : 'US';
}

interface Ctx {
  text: string;
  country: string;
  protectedSet: ReadonlySet<string>;
  unknownProtected: boolean;
  cidrs: ReturnType<typeof parseCidr>[];
  regions: Readonly<Record<string, GeoRegion>>;
  /** One byte per scanned character: 1 where a finding or a deliberately ignored span (test data,
   * private IPs, versions) already sits. A bitmap keeps overlap checks O(span) on dense 64 KB inputs. */
  claimed: Uint8Array;
  out: PiiFinding[];
}

function overlaps(ctx: Ctx, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (ctx.claimed[i] === 1) return true;
  return false;
}

function claim(ctx: Ctx, s: number, e: number): void {
  ctx.claimed.fill(1, s, e);
}

/** `located`: the identifier has a known place that is none of the protected countries (coordinates). */
function emit(ctx: Ctx, kind: PiiKind, normalized: string, start: number, end: number, country?: string, located = false): void {
  if (overlaps(ctx, start, end)) return;
  claim(ctx, start, end);
  const prot = country !== undefined ? ctx.protectedSet.has(country) : located ? false : ctx.unknownProtected;
  const f: PiiFinding = { kind, normalized, start, end, protected: prot };
  if (country !== undefined) f.country = country;
  ctx.out.push(f);
}

// ---------------------------------------------------------------------------------------------- e-mail

const EMAIL = /(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w\-]|\.[A-Za-z0-9])/g;
// RFC 2606 / RFC 6761 names reserved for examples and tests; nobody receives mail there.
const RESERVED_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost|local)$/;
// Country-code TLDs sold to anyone worldwide; they say nothing about where the holder lives.
const GENERIC_CC = new Set(['co', 'io', 'ai', 'me', 'tv', 'cc', 'ws', 'fm', 'ly', 'to', 'gg', 'sh', 'am', 'so', 'vc', 'gl', 'nu', 'la', 'sx']);
const US_ONLY_TLDS = new Set(['us', 'gov', 'mil', 'edu']);

function emails(ctx: Ctx): void {
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(ctx.text); m; m = EMAIL.exec(ctx.text)) {
    const addr = m[0].toLowerCase();
    const domain = addr.slice(addr.indexOf('@') + 1);
    const s = m.index;
    const e = s + m[0].length;
    if (RESERVED_DOMAIN.test(domain)) {
      claim(ctx, s, e);
      continue;
    }
    const tld = domain.slice(domain.lastIndexOf('.') + 1);
    let country: string | undefined;
    if (US_ONLY_TLDS.has(tld)) country = 'US';
    else if (tld === 'uk') country = 'GB';
    else if (tld.length === 2 && !GENERIC_CC.has(tld)) country = tld.toUpperCase();
    emit(ctx, 'email', addr, s, e, country);
  }
}

// ----------------------------------------------------------------------------------------- coordinates

// Decimal degrees, >= 4 decimals (about 11 m), optionally labelled and with hemisphere letters.
const COORD_DEC =
  /(?<![\w.\-+])(?:([Ll]at(?:itude)?)\s*[:=]?\s*)?([-+]?\d{1,2}\.\d{4,})\s*(°)?\s*([NS])?\s*[,;/]?\s*(?:(?:[Ll]on(?:g(?:itude)?)?|[Ll]ng)\s*[:=]?\s*)?([-+]?\d{1,3}\.\d{4,})\s*°?\s*([EW])?(?!\w|\.\d)/g;
// Degrees, minutes and seconds with hemispheres; seconds are required (minutes alone are ~1.8 km).
const COORD_DMS =
  /(\d{1,2})\s*°\s*(\d{1,2})\s*['′]\s*(\d{1,2}(?:\.\d+)?)\s*(?:"|″|'')\s*([NS])[\s,;]*(\d{1,3})\s*°\s*(\d{1,2})\s*['′]\s*(\d{1,2}(?:\.\d+)?)\s*(?:"|″|'')\s*([EW])/g;

function coordinates(ctx: Ctx): void {
  COORD_DEC.lastIndex = 0;
  for (let m = COORD_DEC.exec(ctx.text); m; m = COORD_DEC.exec(ctx.text)) {
    let lat = Number(m[2]);
    let lon = Number(m[5]);
    const labelled = m[1] !== undefined || m[3] !== undefined || m[4] !== undefined || m[6] !== undefined;
    // Pairs of small decimals are usually scores or probabilities ("0.8123, 0.1877"), not places.
    if (!labelled && Math.abs(lat) < 10 && Math.abs(lon) < 10) continue;
    if (m[4] === 'S') lat = -Math.abs(lat);
    if (m[6] === 'W') lon = -Math.abs(lon);
    addCoordinate(ctx, lat, lon, m.index, m.index + m[0].length);
  }
  if (!ctx.text.includes('°')) return;
  COORD_DMS.lastIndex = 0;
  for (let m = COORD_DMS.exec(ctx.text); m; m = COORD_DMS.exec(ctx.text)) {
    const dms = (d: string, mi: string, s: string) => Number(d) + Number(mi) / 60 + Number(s) / 3600;
    if (Number(m[2]) >= 60 || Number(m[3]) >= 60 || Number(m[6]) >= 60 || Number(m[7]) >= 60) continue;
    const lat = dms(m[1]!, m[2]!, m[3]!) * (m[4] === 'S' ? -1 : 1);
    const lon = dms(m[5]!, m[6]!, m[7]!) * (m[8] === 'W' ? -1 : 1);
    addCoordinate(ctx, lat, lon, m.index, m.index + m[0].length);
  }
}

function addCoordinate(ctx: Ctx, lat: number, lon: number, s: number, e: number): void {
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return;
  // Canonical to 4 decimals so the same place written twice hashes the same.
  const norm = `${lat.toFixed(4)},${lon.toFixed(4)}`;
  const inProtected = countryOf(lat, lon, [...ctx.protectedSet], ctx.regions);
  // A coordinate always has a place: outside the protected outlines means foreign, not unknown.
  emit(ctx, 'coordinates', norm, s, e, inProtected, true);
}

// ------------------------------------------------------------------------------------------------- IPs

const IPV4 = /(?<![\w.\-])(?:\d{1,3}\.){3}\d{1,3}(?![\w\-]|\.\d)/g;
// Only global unicast (2000::/3) can name a host on the internet; requiring a 4-hex first group that
// starts with 2 or 3 also keeps C++ scopes ("ab::cd") and clock times out.
const IPV6 = /(?<![\w:.])[23][0-9A-Fa-f]{3}:[0-9A-Fa-f:.]{2,41}(?![\w:])/g;
const VERSION_BEFORE = /(?:\bv|\bversion|\bver\.?|\brelease|\bbuild|\bfirmware|\bOID)\s*$/i;

function ips(ctx: Ctx): void {
  IPV4.lastIndex = 0;
  for (let m = IPV4.exec(ctx.text); m; m = IPV4.exec(ctx.text)) {
    const b = parseIPv4(m[0]);
    if (!b) continue;
    addIp(ctx, b, m.index, m.index + m[0].length);
  }
  if (!ctx.text.includes(':')) return;
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(ctx.text); m; m = IPV6.exec(ctx.text)) {
    const raw = m[0].replace(/[.:]+$/, '');
    const b = parseIPv6(raw);
    if (!b) continue;
    addIp(ctx, b, m.index, m.index + raw.length);
  }
}

function addIp(ctx: Ctx, b: Uint8Array, s: number, e: number): void {
  const before = ctx.text.slice(Math.max(0, s - 12), s);
  if (!isPublicIp(b) || (b.length === 4 && VERSION_BEFORE.test(before))) {
    claim(ctx, s, e);
    return;
  }
  const listed = ctx.cidrs.some((c) => c !== undefined && inCidr(b, c));
  emit(ctx, 'ip', formatIp(b), s, e, listed ? ctx.country : undefined);
}

// ---------------------------------------------------------------------------- card numbers and IMEIs

// 12–19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5, IMEI 2-6-6-1).
const DIGIT_RUN = /(?<![\w\-.])\d(?:[ \-]?\d){11,18}(?![\w]|[\-.]\d)/g;
const IMEI_CONTEXT = /\b(?:imei|imeis|handset|device id|serial)\b[^\n]{0,40}$/i;

function cardsAndImeis(ctx: Ctx): void {
  DIGIT_RUN.lastIndex = 0;
  for (let m = DIGIT_RUN.exec(ctx.text); m; m = DIGIT_RUN.exec(ctx.text)) {
    const digits = m[0].replace(/[ \-]/g, '');
    const s = m.index;
    const e = s + m[0].length;
    if (!luhnValid(digits)) continue;
    if (cardBrand(digits)) {
      if (isTestPan(digits)) claim(ctx, s, e);
      else emit(ctx, 'credit_card', digits, s, e);
      continue;
    }
    if (digits.length === 15) {
      const context = IMEI_CONTEXT.test(ctx.text.slice(Math.max(0, s - 48), s));
      if (context || imeiPrefixPlausible(digits)) emit(ctx, 'imei', digits, s, e);
    }
  }
}

// ------------------------------------------------------------------------------------------------ SSNs

const SSN_DASHED = /(?<![\w\-])(\d{3})-(\d{2})-(\d{4})(?![\w]|-\d)/g;
const SSN_BARE = /(?<![\w\-.])(\d{3}) ?(\d{2}) ?(\d{4})(?![\w\-]|[.,]\d)/g;
const SSN_CONTEXT = /\b(?:ssns?|social security|soc\.? ?sec|ss ?#|ss no|ssa number)/i;
const SSN_CONTEXT_REACH = 256;

function ssns(ctx: Ctx): void {
  // The 3-2-4 dashed grouping is used for little else, so it stands on its own. Spaced or bare nine-digit
  // numbers are everywhere (IDs, amounts), so they count only near an SSN keyword: within the previous
  // 256 characters, in the first line (a CSV header), or within 256 characters of the previous bare SSN
  // so that a long list under one heading is read to its end.
  SSN_DASHED.lastIndex = 0;
  for (let m = SSN_DASHED.exec(ctx.text); m; m = SSN_DASHED.exec(ctx.text)) {
    const d = m[1]! + m[2]! + m[3]!;
    if (ssnValid(d)) emit(ctx, 'ssn', d, m.index, m.index + m[0].length, 'US');
  }
  const nl = ctx.text.indexOf('\n');
  const headerHas = SSN_CONTEXT.test(nl < 0 ? '' : ctx.text.slice(0, Math.min(nl, 1024)));
  if (!headerHas && !SSN_CONTEXT.test(ctx.text)) return;
  let lastEnd = -Infinity;
  SSN_BARE.lastIndex = 0;
  for (let m = SSN_BARE.exec(ctx.text); m; m = SSN_BARE.exec(ctx.text)) {
    const d = m[1]! + m[2]! + m[3]!;
    if (!ssnValid(d)) continue;
    const near = headerHas || m.index - lastEnd <= SSN_CONTEXT_REACH
      || SSN_CONTEXT.test(ctx.text.slice(Math.max(0, m.index - SSN_CONTEXT_REACH), m.index));
    if (!near) continue;
    lastEnd = m.index + m[0].length;
    emit(ctx, 'ssn', d, m.index, lastEnd, 'US');
  }
}

// ------------------------------------------------------------------------------- passports and plates

// Passport numbers are 6–9 letters and digits (9 for the US, UK, Germany, China; 8 for India), which is
// too common a shape to find alone, so only the word "passport" nearby makes one.
const PASSPORT = /\bpassport(?:\s+(?:no\.?|number|num|#|id))?\s*[:#]?\s*(?:is\s+)?([A-Z0-9]{6,9})(?![\w\-])/gi;
const NATIONALITY: Readonly<Record<string, RegExp>> = {
  US: /(?:\bu\.?s\.?a?\.?|\bamerican|\bunited states)\s*$/i,
  GB: /(?:\bu\.?k\.?|\bbritish|\bunited kingdom)\s*$/i,
  CA: /\bcanadian\s*$/i,
  AU: /\baustralian\s*$/i,
  NZ: /\b(?:new zealand|nz)\s*$/i,
};

function passports(ctx: Ctx): void {
  PASSPORT.lastIndex = 0;
  for (let m = PASSPORT.exec(ctx.text); m; m = PASSPORT.exec(ctx.text)) {
    const id = m[1]!;
    if (id !== id.toUpperCase() || (id.match(/\d/g)?.length ?? 0) < 4) continue;
    const before = ctx.text.slice(Math.max(0, m.index - 24), m.index);
    let country: string | undefined;
    for (const [c, re] of Object.entries(NATIONALITY)) if (re.test(before)) country = c;
    const s = m.index + m[0].length - id.length;
    emit(ctx, 'passport', id, s, s + id.length, country);
  }
}

// US plate formats differ by state and together cover most short letter-digit strings, so a plate is
// only read right after a plate word ("plate", "license plate", "tag number", "registration plate").
const PLATE_CONTEXT =
  /\b(?:(?:licen[cs]e|number|registration|reg|vehicle)\s+plates?|plates?|tag\s*(?:number|no\.?|#)|vehicle\s+registration)(?:\s+(?:no\.?|number|num|#|is|reads|was))*\s*[:#]?\s*/gi;
const PLATE = /([A-Z0-9]{1,4}[ \-]?[A-Z0-9]{1,5})(?![\w\-])/y;
const STATE_HINT = new RegExp(`(?:\\b(?:${Object.keys(US_STATES).join('|')})\\b|\\b(?:${STATE_NAMES_RE})\\b)`);
const STATE_HINT_I = new RegExp(`\\b(?:${STATE_NAMES_RE})\\b`, 'i');

function plates(ctx: Ctx): void {
  PLATE_CONTEXT.lastIndex = 0;
  for (let m = PLATE_CONTEXT.exec(ctx.text); m; m = PLATE_CONTEXT.exec(ctx.text)) {
    PLATE.lastIndex = m.index + m[0].length;
    const p = PLATE.exec(ctx.text);
    if (!p) continue;
    const plate = p[1]!.replace(/[ \-]/g, '');
    if (plate.length < 4 || plate.length > 8 || !/\d/.test(plate) || !/[A-Z]/.test(plate)) continue;
    // "hot plate 2000W", "plate 12MM": a quantity and its unit, not a registration.
    if (/^\d+[A-Z]{1,3}$/.test(plate)) continue;
    const s = p.index;
    const e = s + p[0].length;
    const near = ctx.text.slice(Math.max(0, m.index - 32), m.index) + ' ' + ctx.text.slice(e, e + 24);
    const hint = STATE_HINT.exec(near) ?? STATE_HINT_I.exec(near);
    let country: string | undefined;
    if (hint) {
      const h = hint[0];
      const code = h.length === 2 ? h : STATE_BY_NAME.get(h.toLowerCase().replace(/\s+/g, ' '));
      if (code) country = countryOfState(code);
    }
    emit(ctx, 'plate', plate, s, e, country);
  }
}

// ------------------------------------------------------------------------------------------- addresses

const SUFFIXES: Readonly<Record<string, string>> = {
  street: 'st', st: 'st', avenue: 'ave', ave: 'ave', road: 'rd', rd: 'rd', boulevard: 'blvd', blvd: 'blvd',
  lane: 'ln', ln: 'ln', drive: 'dr', dr: 'dr', court: 'ct', ct: 'ct', place: 'pl', pl: 'pl', terrace: 'ter',
  ter: 'ter', way: 'way', circle: 'cir', cir: 'cir', highway: 'hwy', hwy: 'hwy', parkway: 'pkwy', pkwy: 'pkwy',
  square: 'sq', sq: 'sq', trail: 'trl', trl: 'trl', plaza: 'plz', plz: 'plz', alley: 'aly', aly: 'aly',
  loop: 'loop', pike: 'pike', row: 'row',
};
const DIRECTIONS: Readonly<Record<string, string>> = { north: 'n', south: 's', east: 'e', west: 'w' };
const SUFFIX_RE = Object.keys(SUFFIXES).sort((a, b) => b.length - a.length).map((k) => k[0]!.toUpperCase() + k.slice(1)).join('|');
const STATE_ALT = `${Object.keys(US_STATES).join('|')}|${Object.values(US_STATES).map((n) => n.replace(/(^|\s)(\w)/g, (_x, sp: string, c: string) => sp + c.toUpperCase()).replace(/ /g, '\\s+')).join('|')}`;
// number + capitalised street name + suffix [+ unit] [+ ", City, ST 12345"]
const ADDRESS = new RegExp(
  String.raw`(?<![\w#\-.,])(\d{1,6}[A-Z]?)\s+` +
    String.raw`((?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?(?:[A-Z][A-Za-z'\-]*|\d{1,3}(?:st|nd|rd|th))(?:\s+[A-Z][A-Za-z'\-]*){0,3}\s+(?:${SUFFIX_RE}))\b\.?` +
    String.raw`(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?` +
    String.raw`(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*#?[A-Za-z0-9\-]+)?` +
    String.raw`(?:,\s*[A-Z][A-Za-z.'\-]*(?:\s+[A-Z][A-Za-z.'\-]*){0,3},?\s+(${STATE_ALT})\b(?:\s+(\d{5})(?:-\d{4})?)?)?`,
  'g',
);

function addresses(ctx: Ctx): void {
  ADDRESS.lastIndex = 0;
  for (let m = ADDRESS.exec(ctx.text); m; m = ADDRESS.exec(ctx.text)) {
    const words = m[2]!.toLowerCase().replace(/[.']/g, '').split(/\s+/);
    const last = words.length - 1;
    words[last] = SUFFIXES[words[last]!] ?? words[last]!;
    if (words[0]! in DIRECTIONS && words.length > 2) words[0] = DIRECTIONS[words[0]!]!;
    const stateRaw = m[3];
    const state = stateRaw === undefined ? undefined : stateRaw.length === 2 ? stateRaw : STATE_BY_NAME.get(stateRaw.toLowerCase().replace(/\s+/g, ' '));
    const zip = m[4];
    const norm = [m[1]!.toLowerCase(), ...words, zip ?? state?.toLowerCase() ?? ''].join(' ').trim();
    emit(ctx, 'address', norm, m.index, m.index + m[0].length, state ? countryOfState(state) : undefined);
  }
}

// --------------------------------------------------------------------------------------------- the scan

const cidrCache = new WeakMap<readonly string[], ReturnType<typeof parseCidr>[]>();

function parseCidrs(list: readonly string[] | undefined): ReturnType<typeof parseCidr>[] {
  if (!list || list.length === 0) return [];
  let parsed = cidrCache.get(list);
  if (!parsed) {
    parsed = list.map((c) => {
      const p = parseCidr(c);
      if (!p) throw new RedlineError('CONFIG_INVALID', 'protectedCidrs holds an entry that is not a CIDR block');
      return p;
    });
    cidrCache.set(list, parsed);
  }
  return parsed;
}

/**
 * The claimed-character map, reused across calls (detection is synchronous): a fresh Uint8Array per
 * call is allocated outside V8's heap once a prompt passes 64 characters, and costs more than a fill.
 */
let claimedScratch = new Uint8Array(4096);
function claimedFor(n: number): Uint8Array {
  if (n > claimedScratch.length) claimedScratch = new Uint8Array(Math.max(n, claimedScratch.length * 2));
  const view = claimedScratch.subarray(0, n);
  view.fill(0);
  return view;
}

/**
 * Finds identifiers of persons in `text` (at most `maxChars` of it). Detectors run from the most to the
 * least specific; a span taken by one (or ignored as test data) is not reported again by another.
 * Findings come back sorted by start offset.
 */
export function detectPii(text: string, opts: DetectOptions = {}): PiiFinding[] {
  const country = (opts.country ?? 'US').toUpperCase();
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const scanned = text.length > maxChars ? text.slice(0, maxChars) : text;
  const ctx: Ctx = {
    text: scanned,
    country,
    protectedSet: new Set(opts.protectedCountries ?? TERRITORIES[country] ?? [country]),
    unknownProtected: opts.unknownOrigin === 'protected',
    cidrs: parseCidrs(opts.protectedCidrs),
    regions: opts.regions ?? COUNTRY_REGIONS,
    claimed: claimedFor(scanned.length),
    out: [],
  };
  if (scanned.includes('@')) emails(ctx);
  if (!/\d/.test(scanned)) return ctx.out;
  coordinates(ctx);
  ips(ctx);
  cardsAndImeis(ctx);
  ssns(ctx);
  passports(ctx);
  plates(ctx);
  addresses(ctx);
  for (const p of findPhones(scanned, country, (s, e) => overlaps(ctx, s, e))) {
    emit(ctx, 'phone', p.e164, p.start, p.end, p.country);
  }
  return ctx.out.sort((a, b) => a.start - b.start);
}

export function countPii(findings: readonly PiiFinding[]): PiiCounts {
  const byKind: Partial<Record<PiiKind, number>> = {};
  let prot = 0;
  for (const f of findings) {
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    if (f.protected) prot++;
  }
  return { total: findings.length, protected: prot, byKind };
}
