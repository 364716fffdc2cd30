import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countPii, detectPii, type DetectOptions, type PiiFinding, type PiiKind } from './index.js';
import { RedlineError } from '../../errors.js';

// Fixtures: e-mail and phone numbers in fictional or reserved ranges where possible; SSNs built to pass
// the SSA rules but chosen arbitrarily; IMEIs from the worked examples in Wikipedia's "IMEI" article; card numbers with
// check digits computed for this file (not issued cards).

function find(text: string, opts?: DetectOptions): PiiFinding[] {
  return detectPii(text, opts);
}
function kinds(text: string, opts?: DetectOptions): PiiKind[] {
  return find(text, opts).map((f) => f.kind);
}
function only(text: string, kind: PiiKind, opts?: DetectOptions): PiiFinding {
  const f = find(text, opts).filter((x) => x.kind === kind);
  assert.equal(f.length, 1, `expected one ${kind}, got ${f.length}`);
  return f[0]!;
}
function none(text: string, opts?: DetectOptions): void {
  assert.deepEqual(kinds(text, opts), [], `expected no findings in ${JSON.stringify(text)}`);
}

test('offsets point at the matched text', () => {
  const t = 'write to Jane.Doe@Gmail.com today';
  const f = only(t, 'email');
  assert.equal(t.slice(f.start, f.end), 'Jane.Doe@Gmail.com');
});

test('e-mail: lower-cased; protected only by a country domain of the protected population', () => {
  const g = only('mail Jane.Doe@Gmail.com', 'email');
  assert.equal(g.normalized, 'jane.doe@gmail.com');
  assert.equal(g.protected, false);
  assert.equal(g.country, undefined);
  const gov = only('cc bob.smith@agency.gov', 'email');
  assert.equal(gov.protected, true);
  assert.equal(gov.country, 'US');
  const uk = only('ann@foo.co.uk', 'email');
  assert.equal(uk.country, 'GB');
  assert.equal(uk.protected, false);
  assert.equal(only('ann@foo.co.uk', 'email', { country: 'GB' }).protected, true);
  assert.equal(only('mail Jane.Doe@Gmail.com', 'email', { unknownOrigin: 'protected' }).protected, true);
  assert.equal(only('x@startup.io', 'email').country, undefined, 'generic ccTLD says nothing');
});

test('e-mail look-alikes', () => {
  none('user@example.com and admin@mail.example.org and a@host.test');
  none('follow @redline_dev, foo@bar, a@b.c, and git@localhost');
});

test('phone: E.164, protected by the number country (US territories included)', () => {
  const us = only('call (415) 555-2671 now', 'phone');
  assert.equal(us.normalized, '+14155552671');
  assert.equal(us.protected, true);
  assert.equal(us.country, 'US');
  assert.equal(only('desk 212.736.3100', 'phone').normalized, '+12127363100');
  const gb = only('London office +44 20 7946 0958', 'phone');
  assert.equal(gb.normalized, '+442079460958');
  assert.equal(gb.protected, false);
  assert.equal(only('London office +44 20 7946 0958', 'phone', { country: 'GB' }).protected, true);
  const pr = only('San Juan +1 787 722 2121', 'phone');
  assert.equal(pr.country, 'PR');
  assert.equal(pr.protected, true);
  const ca = only('Toronto 416-555-0199', 'phone');
  assert.equal(ca.country, 'CA');
  assert.equal(ca.protected, false);
});

test('phone look-alikes: dates, decimals, versions, counts, ISBNs, timestamps', () => {
  none('on 2024-05-12 and 12.05.2024 at 10:30');
  none('pi is 3.14159265 and build 10.0.19041.1234');
  none('1,250,000 litres; 1 250 000 people; 37 work orders; room B-214');
  none('ISBN 978-3-16-148410-0, epoch 1715500000');
});

test('two numbers side by side are both found', () => {
  const f = find('(415) 555-2671 (212) 736-3100');
  assert.deepEqual(f.map((x) => x.normalized), ['+14155552671', '+12127363100']);
});

test('SSN: dashed form on its own, protected for a US deployment', () => {
  const f = only('employee 536-22-1234 joined', 'ssn');
  assert.equal(f.normalized, '536221234');
  assert.equal(f.protected, true);
  assert.equal(f.country, 'US');
  assert.equal(only('employee 536-22-1234', 'ssn', { country: 'GB' }).protected, false);
});

test('SSN: numbers the SSA never issues are rejected', () => {
  for (const bad of ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '536-00-1234', '536-22-0000',
    '078-05-1120', '219-09-9999', '123-45-6789']) {
    assert.deepEqual(kinds(`SSN ${bad}`).filter((k) => k === 'ssn'), [], bad);
  }
});

test('SSN: bare or spaced nine digits only near an SSN keyword', () => {
  none('order 536221235 shipped');
  none('invoice 536 22 1235');
  assert.equal(only('SSN: 536221235', 'ssn').normalized, '536221235');
  assert.equal(only('Social Security number 536 22 1235', 'ssn').normalized, '536221235');
  // A list under one heading is read to its end, even when the heading is far above the last row.
  const rows = Array.from({ length: 60 }, (_, i) => `${100 + i}${10 + i}${3000 + i}`);
  const list = `SSNs of the staff:\n${rows.join('\n')}`;
  assert.equal(find(list).filter((f) => f.kind === 'ssn').length, 60);
  // A CSV header names the column for every row.
  const csv = `name,ssn,team\n${rows.map((r, i) => `person${i},${r},blue`).join('\n')}`;
  assert.equal(find(csv).filter((f) => f.kind === 'ssn').length, 60);
  // Far from any keyword, a bare number is just a number.
  const far = `SSN policy.${' filler text'.repeat(40)} ref 536221235`;
  assert.deepEqual(kinds(far), []);
});

test('IPv4: public addresses, canonical; protected only through configured CIDRs', () => {
  const f = only('login from 81.2.69.160.', 'ip');
  assert.equal(f.normalized, '81.2.69.160');
  assert.equal(f.protected, false);
  const p = only('login from 81.2.69.160', 'ip', { protectedCidrs: ['81.2.0.0/16'] });
  assert.equal(p.protected, true);
  assert.equal(p.country, 'US');
  assert.equal(only('login from 81.2.69.160', 'ip', { protectedCidrs: ['81.3.0.0/16'] }).protected, false);
  assert.throws(() => detectPii('81.2.69.160', { protectedCidrs: ['not-a-cidr'] }), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
});

test('IPv4 look-alikes: versions, dotted numbers, invalid octets, non-public ranges', () => {
  none('upgrade to 1.2.3.4.5 today');
  none('version 1.2.3.4 and v8.8.4.4 and release 2.0.1.7');
  none('256.1.1.1, 01.02.03.04, 1.2.3');
  none('10.0.0.1 192.168.1.1 127.0.0.1 172.16.5.4 100.64.1.1 169.254.0.1 192.0.2.55 198.51.100.7 203.0.113.9 224.0.0.1 255.255.255.255');
});

test('IPv6: global unicast only, expanded; look-alikes ignored', () => {
  const f = only('peer 2a00:1450:4009:81f::200e connected', 'ip');
  assert.equal(f.normalized, '2a00:1450:4009:081f:0000:0000:0000:200e');
  none('fe80::1, ::1, 2001:db8::1, 2001:0db8:85a3::8a2e:0370:7334, fc00::5');
  none('std::vector<int> a::b; at 12:30:45; 2024:05:12');
});

test('IMEI: Luhn-valid 15 digits, grouped or not; look-alikes rejected', () => {
  assert.equal(only('IMEI 490154203237518', 'imei').normalized, '490154203237518');
  assert.equal(only('handset 35-209900-176148-1 seen', 'imei').normalized, '352099001761481');
  assert.equal(only('unit 490154203237518', 'imei').normalized, '490154203237518', 'plausible reporting-body prefix');
  none('IMEI 490154203237519');
  none('ref 720000000000009'); // Luhn-valid, but no IMEI prefix and no context
  assert.equal(only('IMEI: 720000000000009', 'imei').protected, false);
});

test('card numbers: Luhn + IIN; test numbers and non-card digit strings ignored', () => {
  const v = only('card 4539 1488 0343 6467 exp 09/27', 'credit_card');
  assert.equal(v.normalized, '4539148803436467');
  assert.equal(v.protected, false);
  assert.equal(only('mc 5222-0031-2200-3226', 'credit_card').normalized, '5222003122003226');
  assert.equal(only('amex 3782 822463 10013', 'credit_card').normalized, '378282246310013');
  none('card 4539 1488 0343 6468'); // check digit wrong
  none('use 4242 4242 4242 4242 or 4111111111111111 in the sandbox');
  none('tracking 9012345678901238'); // Luhn-valid, no issuer range
});

test('plates: only after a plate word; state named nearby makes it protected', () => {
  const ca = only('California license plate 7ABC123 was seen', 'plate');
  assert.equal(ca.normalized, '7ABC123');
  assert.equal(ca.protected, true);
  assert.equal(ca.country, 'US');
  const tx = only('tag number XYZ 987 (TX)', 'plate');
  assert.equal(tx.normalized, 'XYZ987');
  assert.equal(tx.protected, true);
  const bare = only('plate number: KJH-4521', 'plate');
  assert.equal(bare.protected, false);
  assert.equal(bare.country, undefined);
  none('7ABC123 is the part number');
  none('hot plate 2000W; license plate of the car; plate is BLUE; git tag V1234');
});

test('passports: only after the word passport; issuer from the adjective before it', () => {
  const us = only('U.S. passport C03005988 issued', 'passport');
  assert.equal(us.normalized, 'C03005988');
  assert.equal(us.country, 'US');
  assert.equal(us.protected, true);
  const gb = only('British passport no. 987654321', 'passport');
  assert.equal(gb.country, 'GB');
  assert.equal(gb.protected, false);
  assert.equal(only('passport number: 123456789', 'passport').protected, false);
  none('passport is pending; passport photo; passport office 12; C03005988 alone');
});

test('coordinates: decimal and DMS; protected inside the country outlines', () => {
  const dc = only('meet at 38.8977, -77.0365.', 'coordinates');
  assert.equal(dc.normalized, '38.8977,-77.0365');
  assert.equal(dc.protected, true);
  assert.equal(dc.country, 'US');
  const pit = only(`at 40°26'46"N 79°58'56"W`, 'coordinates');
  assert.equal(pit.normalized, '40.4461,-79.9822');
  assert.equal(pit.protected, true);
  assert.equal(only('lat: 21.306944 lon: -157.858333', 'coordinates').country, 'US');
  assert.equal(only('18.4655, -66.1057', 'coordinates').country, 'PR');
  const toronto = only('43.6532, -79.3832', 'coordinates');
  assert.equal(toronto.protected, false);
  assert.equal(toronto.country, undefined);
  // Coordinates are located: outside the outlines they are foreign even when unknown origins are protected.
  assert.equal(only('43.6532, -79.3832', 'coordinates', { unknownOrigin: 'protected' }).protected, false);
  const london = only('51.5074° N, 0.1278° W', 'coordinates', { country: 'GB' });
  assert.equal(london.normalized, '51.5074,-0.1278');
  assert.equal(london.protected, true);
});

test('coordinate look-alikes: scores, coarse values, out of range', () => {
  none('precision 0.8123, recall 0.1877');
  none('3.14159, 2.71828');
  none('about 38.89, -77.03');
  none('95.12345, 10.12345');
});

test('addresses: US street pattern; protected with a US state', () => {
  const wh = only('send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 please', 'address');
  assert.equal(wh.normalized, '1600 pennsylvania ave 20500');
  assert.equal(wh.protected, true);
  assert.equal(only('742 Evergreen Terrace, Springfield, Oregon', 'address').country, 'US');
  assert.equal(only('350 5th Ave, New York, NY 10118', 'address').normalized, '350 5th ave 10118');
  const plain = only('meet at 123 Main St. at noon', 'address');
  assert.equal(plain.normalized, '123 main st');
  assert.equal(plain.protected, false);
  none('3 dogs ran down the road; 12 Apples; 40 Main ideas');
});

test('a mixed text: no span reported twice, findings sorted', () => {
  const t = 'Jane, jane@agency.gov, (415) 555-2671, SSN 536-22-1234, 81.2.69.160, card 4539 1488 0343 6467, at 38.8977, -77.0365';
  const f = find(t);
  assert.deepEqual(f.map((x) => x.kind), ['email', 'phone', 'ssn', 'ip', 'credit_card', 'coordinates']);
  for (let i = 1; i < f.length; i++) assert.ok(f[i]!.start >= f[i - 1]!.end);
  assert.deepEqual(countPii(f), {
    total: 6,
    protected: 4,
    byKind: { email: 1, phone: 1, ssn: 1, ip: 1, credit_card: 1, coordinates: 1 },
  });
});

test('maxChars bounds the scan', () => {
  const t = `${'x'.repeat(100)} 536-22-1234`;
  assert.equal(kinds(t).length, 1);
  assert.equal(kinds(t, { maxChars: 100 }).length, 0);
  const big = `${'filler words 42 and 7. '.repeat(4000)}call (415) 555-2671`;
  assert.ok(big.length > 64 * 1024);
  assert.deepEqual(kinds(big), [], 'default limit is 64 KB');
});

test('text with no digits and no @ finds nothing', () => {
  none('The operator asked about logistics for the exercise next week.');
  assert.deepEqual(countPii([]), { total: 0, protected: 0, byKind: {} });
});
