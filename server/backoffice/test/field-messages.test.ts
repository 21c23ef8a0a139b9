// The field view's English messages say the same things as the French ones: every key has a
// non-empty text with exactly the same {placeholders}.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { en, fr, type Key } from '../src/field/messages.js';

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every field message has an English text with the same placeholders', () => {
  const keys = Object.keys(fr) as Key[];
  assert.deepEqual(Object.keys(en).sort(), [...keys].sort());
  for (const k of keys) {
    assert.ok(fr[k].trim() && en[k].trim(), `empty text for ${k}`);
    assert.deepEqual(placeholders(en[k]), placeholders(fr[k]), `placeholders of ${k}`);
  }
});
