// The client-side form checks give the server's codes at the server's paths, so that one
// renderer shows both kinds of error at the same fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsMime, checkAnswers, normalisePhone } from '../src/forms/check.js';
import { boundDate, conditionHolds, type FormDefinition } from '../src/forms/definition.js';

const TODAY = '2026-12-05';

const pickup: FormDefinition = {
  fields: [
    { id: 'kind', kind: 'choice', label: 'Type', label_en: 'Kind', required: true,
      options: [{ value: 'home', label: 'Domicile', label_en: 'Home' }, { value: 'other', label: 'Autre', label_en: 'Other' }] },
    { id: 'other', kind: 'text', label: 'Précisez', label_en: 'Say', required: true, when: { field: 'kind', equals: 'other' } },
    { id: 'day', kind: 'date', label: 'Jour', label_en: 'Day', required: true, validation: { min: 'today+2', max: 'today+60' } },
    { id: 'items', kind: 'block', label: 'Objets', label_en: 'Items', required: true, min_items: 1, max_items: 3, fields: [
      { id: 'what', kind: 'text', label: 'Objet', label_en: 'Item', required: true },
      { id: 'quantity', kind: 'integer', label: 'Quantité', label_en: 'Quantity', required: true, validation: { min: 1, max: 5 } },
    ] },
    { id: 'phone', kind: 'phone', label: 'Téléphone', label_en: 'Phone' },
    { id: 'photo', kind: 'file', label: 'Photo', label_en: 'Photo', file: { max_bytes: 1000, mime: ['image/*'], max_files: 1 } },
  ],
};

const paths = (errs: { field: string; code: string }[]) => errs.map((e) => `${e.field} ${e.code}`);

test('a field whose condition is false is neither required nor checked', () => {
  const ok = { kind: 'home', day: '2026-12-08', items: [{ what: 'Armoire', quantity: 1 }] };
  assert.deepEqual(checkAnswers(pickup, ok, {}, TODAY), []);
  assert.deepEqual(paths(checkAnswers(pickup, { ...ok, kind: 'other' }, {}, TODAY)), ['data.other required']);
});

test('errors inside blocks carry the item index and the sub-field, as the server writes them', () => {
  const data = { kind: 'home', day: '2026-12-08', items: [{ what: 'Armoire', quantity: 1 }, { what: 'Table', quantity: 9 }, { quantity: 2 }] };
  assert.deepEqual(paths(checkAnswers(pickup, data, {}, TODAY)), ['data.items[1].quantity out-of-range', 'data.items[2].what required']);
  const four = { ...data, items: Array.from({ length: 4 }, () => ({ what: 'x', quantity: 1 })) };
  assert.deepEqual(paths(checkAnswers(pickup, four, {}, TODAY)), ['data.items too-many-items']);
});

test('date bounds relative to today, in days and years', () => {
  assert.equal(boundDate('today+2', TODAY), '2026-12-07');
  assert.equal(boundDate('today-16y', '2024-02-29'), '2008-02-29');
  assert.equal(boundDate('today-1y', '2024-02-29'), '2023-02-28');
  assert.equal(boundDate('2026-01-01', TODAY), '2026-01-01');
  assert.equal(boundDate(3, TODAY), null);
  const base = { kind: 'home', items: [{ what: 'x', quantity: 1 }] };
  assert.deepEqual(paths(checkAnswers(pickup, { ...base, day: '2026-12-06' }, {}, TODAY)), ['data.day out-of-range']);
  assert.deepEqual(paths(checkAnswers(pickup, { ...base, day: '2026-13-01' }, {}, TODAY)), ['data.day invalid-date']);
});

test('phones follow the server rule: French national numbers or E.164', () => {
  assert.equal(normalisePhone('02 99 12 34 56'), '+33299123456');
  assert.equal(normalisePhone('+33 (0)2 99 12 34 56'), '+33299123456');
  assert.equal(normalisePhone('+44 20 7946 0000'), '+442079460000');
  assert.equal(normalisePhone('0033612345678'), '+33612345678');
  assert.equal(normalisePhone('12345'), null);
  assert.equal(normalisePhone('02 99 12 34'), null);
  assert.equal(normalisePhone('tel 0299123456'), null);
});

test('files: count, size and type before upload, under files.<id>', () => {
  const base = { kind: 'home', day: '2026-12-08', items: [{ what: 'x', quantity: 1 }] };
  const big = { photo: [{ name: 'a.jpg', size: 5000, type: 'image/jpeg' }] };
  assert.deepEqual(paths(checkAnswers(pickup, base, big, TODAY)), ['files.photo file-too-large']);
  const pdf = { photo: [{ name: 'a.pdf', size: 10, type: 'application/pdf' }] };
  assert.deepEqual(paths(checkAnswers(pickup, base, pdf, TODAY)), ['files.photo file-type-not-allowed']);
  assert.ok(acceptsMime(['image/*'], 'image/webp'));
  assert.ok(!acceptsMime(['image/*'], 'image/'));
  assert.ok(acceptsMime(['application/pdf'], 'application/pdf'));
});

test('conditions on multi-choices mean "contains"; filled tests presence', () => {
  assert.ok(conditionHolds({ field: 'x', equals: 'a' }, ['b', 'a']));
  assert.ok(!conditionHolds({ field: 'x', in: ['c'] }, ['b', 'a']));
  assert.ok(conditionHolds({ field: 'x', filled: false }, '  '));
  assert.ok(conditionHolds({ field: 'x', filled: true }, false));
});
