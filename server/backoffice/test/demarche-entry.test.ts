// The démarche editor sends back the entry the server stores, not the client's view of it, and
// reads a choice field's options one a line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryOf, optionLines, parseOptionLines } from '../src/demarche-entry.js';

test('the client view of a démarche becomes the entry PUT takes', () => {
  const def = {
    code: 'voirie', title: 'Chaussée', title_en: 'Road', group: 'Signalement sur l’espace public', group_en: 'Reports about public space', group_code: 'signalement',
    geolocated: true, channels: ['app'], auth: 'anonymous', revision: 3, dedup_radius_m: 30, sla_days: 15,
    description: 'Signaler un nid-de-poule.', description_en: 'Report a pothole.', keywords: ['chaussée'], keywords_en: ['pothole'],
    workflow: { code: 'report', initial: 'received', statuses: [] }, form: { fields: [] }, submit: { url: '/api/v1/requests' },
  };
  const e = entryOf(def, 'voirie');
  assert.deepEqual(e, {
    code: 'voirie', title: 'Chaussée', title_en: 'Road', group: 'signalement', geolocated: true, channels: ['app'],
    auth: 'anonymous', sla_days: 15, workflow: 'report', dedup: { radius_m: 30 }, team: 'voirie',
    // Both languages of what the démarche is for go back, so an edit keeps the English.
    description: 'Signaler un nid-de-poule.', description_en: 'Report a pothole.', keywords: ['chaussée'], keywords_en: ['pothole'],
  });
  // A team the answer names is kept; none is invented without a rule.
  assert.equal(entryOf({ ...def, team: 'autre' }, 'voirie').team, 'autre');
  assert.equal('team' in entryOf(def, null), false);
});

test('options one a line, and the first bad line named', () => {
  const opts = [{ value: 'a', label: 'Un', label_en: 'One' }, { value: 'b', label: 'Deux', label_en: 'Two' }];
  assert.deepEqual(parseOptionLines(`${optionLines(opts)}\n\n`), { options: opts });
  assert.deepEqual(parseOptionLines('a | Un | One\nb | Deux'), { badLine: 2 });
  assert.deepEqual(parseOptionLines('a | | One'), { badLine: 1 });
  assert.deepEqual(parseOptionLines(''), { options: [] });
});
