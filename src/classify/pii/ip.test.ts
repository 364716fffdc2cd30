import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, inCidr, isPublicIp, parseCidr, parseIPv4, parseIPv6 } from './ip.js';

test('IPv4 parsing rejects bad octets and leading zeros', () => {
  assert.deepEqual(Array.from(parseIPv4('81.2.69.160')!), [81, 2, 69, 160]);
  for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', 'a.b.c.d']) assert.equal(parseIPv4(bad), undefined, bad);
});

test('IPv6 parsing expands :: and dotted tails (RFC 4291 §2.2 forms)', () => {
  assert.equal(formatIp(parseIPv6('2a00:1450:4009:81f::200e')!), '2a00:1450:4009:081f:0000:0000:0000:200e');
  assert.equal(formatIp(parseIPv6('::1')!), '0000:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(formatIp(parseIPv6('::ffff:192.0.2.128')!), '0000:0000:0000:0000:0000:ffff:c000:0280');
  assert.equal(formatIp(parseIPv6('1:2:3:4:5:6:1.2.3.4')!), '0001:0002:0003:0004:0005:0006:0102:0304');
  assert.equal(formatIp(parseIPv6('2001:DB8::')!), '2001:0db8:0000:0000:0000:0000:0000:0000');
  for (const bad of ['1:2', '12:30:45', 'std::vector', '1::2::3', 'g::1']) assert.equal(parseIPv6(bad), undefined, bad);
});

test('CIDR membership, v4 and v6, odd prefix lengths', () => {
  const c = parseCidr('81.2.64.0/19')!;
  assert.equal(inCidr(parseIPv4('81.2.69.160')!, c), true);
  assert.equal(inCidr(parseIPv4('81.2.96.1')!, c), false);
  assert.equal(inCidr(parseIPv4('0.0.0.0')!, parseCidr('0.0.0.0/0')!), true);
  assert.equal(inCidr(parseIPv6('2600:1f18::1')!, parseCidr('2600::/12')!), true);
  assert.equal(inCidr(parseIPv6('2610::1')!, parseCidr('2600::/12')!), false);
  assert.equal(inCidr(parseIPv4('81.2.69.160')!, parseCidr('2600::/12')!), false, 'families never match');
  for (const bad of ['81.2.0.0/33', '81.2.0.0/x', '2600::/129', 'nope']) assert.equal(parseCidr(bad), undefined, bad);
});

test('public address test', () => {
  for (const a of ['81.2.69.160', '8.8.8.8', '100.63.255.255', '172.32.0.1']) assert.equal(isPublicIp(parseIPv4(a)!), true, a);
  for (const a of ['10.1.2.3', '172.31.255.255', '192.168.0.1', '127.0.0.1', '100.64.0.1', '169.254.1.1', '224.0.0.1', '255.255.255.255', '0.1.2.3']) {
    assert.equal(isPublicIp(parseIPv4(a)!), false, a);
  }
  assert.equal(isPublicIp(parseIPv6('2a00:1450::1')!), true);
  for (const a of ['2001:db8::1', 'fe80::1', 'fc00::1', '::1', 'ff02::1']) assert.equal(isPublicIp(parseIPv6(a)!), false, a);
});
