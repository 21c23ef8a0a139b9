// The démarche editor edits the whole entry the server stores and reads a choice field's options
// one a line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editableEntry, optionLines, parseOptionLines } from '../src/demarche-entry.js';

test('the stored entry is edited whole: fields apart, the rest as stored, the routing’s team', () => {
  const stored = {
    code: 'tags-graffitis', title: 'Tags et graffitis', group: 'signalement', channels: ['app'], auth: 'anonymous', team: 'voirie',
    dedup: { radius_m: 20, window_days: 30, group: 'tags' }, workflow: 'report', privacy: { retention_days: 365 },
    form: { fields: [{ id: 'description', kind: 'text' }], max_photos: 3 },
  };
  const e = editableEntry(stored, 'proprete');
  assert.deepEqual(e.fields, [{ id: 'description', kind: 'text' }]);
  assert.deepEqual(e.form, { max_photos: 3 });
  assert.deepEqual(e.rest, {
    code: 'tags-graffitis', title: 'Tags et graffitis', group: 'signalement', channels: ['app'], auth: 'anonymous', team: 'proprete',
    dedup: { radius_m: 20, window_days: 30, group: 'tags' }, workflow: 'report', privacy: { retention_days: 365 },
  });
  // Without a rule for every commune, the stored team stays; the stored entry is not changed.
  assert.equal(editableEntry(stored, null).rest.team, 'voirie');
  assert.equal(stored.team, 'voirie');
  assert.deepEqual(editableEntry({ code: 'x' }, null), { rest: { code: 'x' }, form: {}, fields: [] });
});

test('options one a line, and the first bad line named', () => {
  const opts = [{ value: 'a', label: 'Un', label_en: 'One' }, { value: 'b', label: 'Deux', label_en: 'Two' }];
  assert.deepEqual(parseOptionLines(`${optionLines(opts)}\n\n`), { options: opts });
  assert.deepEqual(parseOptionLines('a | Un | One\nb | Deux'), { badLine: 2 });
  assert.deepEqual(parseOptionLines('a | | One'), { badLine: 1 });
  assert.deepEqual(parseOptionLines(''), { options: [] });
});
