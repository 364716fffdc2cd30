// Phone numbers. libphonenumber-js (min metadata) decides validity and the E.164 form, but its own
// text scanner costs ~8 ms on an 8 KB prompt (measured), so a regex first picks short candidate spans
// and only those are parsed (~20 µs each).
import { findPhoneNumbersInText, isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

export interface PhoneHit {
  e164: string;
  country: string | undefined;
  start: number;
  end: number;
}

// A digit-led run of digits and phone separators (space, dot, dash, parentheses), optionally led by '+'.
// Not preceded by characters that would make it part of a word, an identifier, a path or a version.
const CANDIDATE = /(?<![\w+.\-/:@$#])(?:\+ ?)?\(?\d[\d ().\-]{5,40}\d(?![\w]|[.\-/]\d)/g;
const DATE_LIKE = /^(?:\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4})$/;
const TIME_OR_DECIMAL = /^\d+\.\d+$/;
const MAX_SPLITS = 32;

export function findPhones(text: string, country: string | undefined, skip: (s: number, e: number) => boolean): PhoneHit[] {
  const def: CountryCode | undefined = country && isSupportedCountry(country) ? country : undefined;
  const out: PhoneHit[] = [];
  let splits = 0;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m; m = CANDIDATE.exec(text)) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    if (skip(start, end)) continue;
    let digits = 0;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits < 7 || DATE_LIKE.test(raw) || TIME_OR_DECIMAL.test(raw)) continue;
    // Without a '+' a number is read in the default country's plan; none configured, nothing to read.
    if (!raw.startsWith('+') && !def) continue;
    if (digits <= 15) {
      const p = parsePhoneNumberFromString(raw, def ? { defaultCountry: def } : {});
      if (p && p.isValid()) out.push({ e164: p.number, country: p.country, start, end });
      continue;
    }
    // Too many digits for one number: two or more side by side, or a row of figures. The library's own
    // scanner splits them, at ~60 µs a call, so a text full of figure rows gets a bounded number of calls.
    if (++splits > MAX_SPLITS) continue;
    for (const f of findPhoneNumbersInText(raw, def ? { defaultCountry: def } : {})) {
      out.push({ e164: f.number.number, country: f.number.country, start: start + f.startsAt, end: start + f.endsAt });
    }
  }
  return out;
}
