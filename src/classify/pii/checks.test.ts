import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardBrand, imeiPrefixPlausible, isTestPan, luhnValid, ssnValid } from './checks.js';

test('Luhn', () => {
  // 79927398713: the worked example in Wikipedia's "Luhn algorithm" article; 490154203237518: the one in its "IMEI" article.
  assert.equal(luhnValid('79927398713'), true);
  assert.equal(luhnValid('79927398710'), false);
  assert.equal(luhnValid('490154203237518'), true);
  assert.equal(luhnValid(''), false);
  assert.equal(luhnValid('12a4'), false);
});

test('SSN validity rules', () => {
  assert.equal(ssnValid('536221234'), true);
  assert.equal(ssnValid('773221234'), true, 'areas 734-899 are valid since randomisation');
  for (const bad of ['000221234', '666221234', '900221234', '987654320', '536001234', '536220000', '078051120', '219099999', '123456789', '53622123', 'abcdefghi']) {
    assert.equal(ssnValid(bad), false, bad);
  }
});

test('card brands by IIN and length', () => {
  assert.equal(cardBrand('4539148803436467'), 'visa');
  assert.equal(cardBrand('5222003122003226'), 'mastercard');
  assert.equal(cardBrand('2221000000000009'), 'mastercard');
  assert.equal(cardBrand('378282246310013'), 'amex');
  assert.equal(cardBrand('6011000990139424'), 'discover');
  assert.equal(cardBrand('3566002020360505'), 'jcb');
  assert.equal(cardBrand('37828224631001'), undefined, 'amex must be 15 digits');
  assert.equal(cardBrand('9012345678901238'), undefined);
  assert.equal(isTestPan('4242424242424242'), true);
  assert.equal(isTestPan('4539148803436467'), false);
});

test('IMEI reporting-body prefixes', () => {
  assert.equal(imeiPrefixPlausible('352099001761481'), true);
  assert.equal(imeiPrefixPlausible('720000000000009'), false);
});
