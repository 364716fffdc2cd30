// Checksums and validity rules shared by the detectors. Pure functions over digit strings.

/** Luhn (ISO/IEC 7812-1 annex B) over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// Numbers published in advertising or as samples and never assigned to a person (SSA, "Social Security
// Numbers for advertising"; the 1938 Woolworth wallet card 078-05-1120; 219-09-9999 from an SSA pamphlet;
// 123-45-6789 as the universal form example). Area 987, also reserved for ads, falls under the 900 rule.
const PLACEHOLDER_SSNS = new Set(['078051120', '219099999', '123456789']);

/**
 * The SSA rules for a number that can have been issued: area not 000, 666 or 900–999; group not 00;
 * serial not 0000. Since randomisation (June 2011) any other area is possible, so nothing finer is checked.
 */
export function ssnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return false;
  return !PLACEHOLDER_SSNS.has(digits);
}

/** Card brands by IIN prefix and allowed lengths (ISO/IEC 7812 ranges as the networks publish them). */
export function cardBrand(digits: string): string | undefined {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) && n >= 16 && n <= 19) return 'discover';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14 && n <= 19) return 'diners';
  if (p2 === 62 && n >= 16 && n <= 19) return 'unionpay';
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 12 && n <= 19) return 'maestro';
  return undefined;
}

// Test card numbers printed in payment providers' public developer docs (Stripe, Braintree, PayPal).
// Developers paste them into prompts all the time; they identify nobody.
const TEST_PANS = new Set([
  '4242424242424242', '4000056655665556', '4111111111111111', '4012888888881881', '4222222222222',
  '5555555555554444', '5200828282828210', '5105105105105100', '2223003122003222',
  '378282246310005', '371449635398431', '378734493671000',
  '6011111111111117', '6011000990139424', '3056930009020004', '36227206271667',
  '3566002020360505', '6200000000000005',
]);

export function isTestPan(digits: string): boolean {
  return TEST_PANS.has(digits);
}

// IMEI reporting-body identifiers (first two digits of the TAC), as GSMA lists them. A bare 15-digit
// Luhn-valid number is accepted as an IMEI only with one of these prefixes, which halves false hits.
const IMEI_RBI = new Set(['00', '01', '10', '30', '33', '35', '44', '45', '49', '50', '51', '52', '53', '54', '86', '91', '98', '99']);

export function imeiPrefixPlausible(digits: string): boolean {
  return IMEI_RBI.has(digits.slice(0, 2));
}
