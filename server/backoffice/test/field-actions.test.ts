// Each action made on site becomes one call of the agent API: its method, path and body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leavesRound, requestFor, targetOf, type FieldAction } from '../src/field/actions.js';

const base = { id: '6a1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d', agent_id: 7, created_at: '2026-05-01T10:00:00.000Z', attempts: 0, next_attempt_at: 0 };
const jpeg = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
const png = new Blob([new Uint8Array([0x89, 0x50])], { type: 'image/png' });

test('closing with after-photos is multipart: the status JSON, then one part per photo', () => {
  const a: FieldAction = { ...base, kind: 'close', request_number: '2026-SIG-000012', status: 'resolved', status_label: 'Résolue', message: 'Rebouché.', photos: [jpeg, png] };
  const r = requestFor(a);
  assert.equal(r.method, 'POST');
  assert.equal(r.path, '/agent/requests/2026-SIG-000012/status');
  assert.equal(r.json, undefined);
  assert.deepEqual(r.parts, [
    ['status', '{"status":"resolved","message":"Rebouché."}'],
    ['photo', jpeg, 'photo-1.jpg'],
    ['photo', png, 'photo-2.png'],
  ]);
  assert.ok(r.timeoutMs >= 60000, 'photos get a long timeout');
  assert.equal(leavesRound(a), true);
});

test('closing without photos or message is plain JSON', () => {
  const r = requestFor({ ...base, kind: 'close', request_number: 'A/1', status: 'resolved', status_label: 'Résolue', photos: [] });
  assert.equal(r.path, '/agent/requests/A%2F1/status');
  assert.deepEqual(r.json, { status: 'resolved' });
  assert.equal(r.parts, undefined);
});

test('could not act, relocate and note', () => {
  const cna = requestFor({ ...base, kind: 'could-not-act', request_number: 'N1', reason: 'Accès bloqué' });
  assert.deepEqual([cna.method, cna.path, cna.json], ['POST', '/agent/requests/N1/could-not-act', { reason: 'Accès bloqué' }]);
  const moved: FieldAction = { ...base, kind: 'relocate', request_number: 'N1', lat: 48.1, lon: -1.6 };
  const rel = requestFor(moved);
  assert.deepEqual([rel.method, rel.path, rel.json], ['PATCH', '/agent/requests/N1', { location: { lat: 48.1, lon: -1.6 } }]);
  assert.equal(leavesRound(moved), false);
  const note = requestFor({ ...base, kind: 'note', request_number: 'N1', text: 'Revenir demain' });
  assert.deepEqual([note.method, note.path, note.json], ['POST', '/agent/requests/N1/notes', { text: 'Revenir demain' }]);
});

test('a new report is the citizen multipart, filed as an agent', () => {
  const report = { client_id: base.id, category: 'voirie', lat: 48.11, lon: -1.68, accuracy_m: 8, description: 'Plaque descellée' };
  const a: FieldAction = { ...base, kind: 'report', report, category_title: 'Voirie', photos: [jpeg] };
  const r = requestFor(a);
  assert.deepEqual([r.method, r.path], ['POST', '/agent/reports']);
  assert.deepEqual(r.parts, [['report', JSON.stringify(report)], ['photo', jpeg, 'photo-1.jpg']]);
  assert.equal(targetOf(a), null);
  assert.equal(leavesRound(a), false);
});
