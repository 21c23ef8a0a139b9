// A queue view survives the round trip through the URL, and only the API's filters reach the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiParams, mapViewOf, sortItems, sortOf, viewQuery, withMapView } from '../src/queue-params.js';

test('a view keeps every filter in its query string, without blanks or the default sort', () => {
  const q = viewQuery({ team: 'voirie', phase: ['received', 'in_progress'], overdue: true, possible_duplicate: false, demarche: '', sort: 'newest' });
  assert.equal(q, '?team=voirie&phase=received%2Cin_progress&overdue=true');
  assert.equal(viewQuery({}), '');
  assert.equal(viewQuery({ sort: 'due' }), '?sort=due');
});

test('the API gets the filters, the sort and paging, never unknown keys', () => {
  const view = new URLSearchParams('team=voirie&sort=due&overdue=true&possible_duplicate=false&assignee=me&x=1&zone=&reopened=true&filed_from=2026-12-01');
  assert.equal(apiParams(view, 'c1', 50).toString(), 'team=voirie&assignee=me&filed_from=2026-12-01&overdue=true&reopened=true&sort=due&cursor=c1&limit=50');
  assert.equal(apiParams(new URLSearchParams('sort=newest')).toString(), '');
  assert.equal(sortOf(view), 'due');
  assert.equal(sortOf(new URLSearchParams('sort=sideways')), 'newest');
});

test('sorting loaded items by age or due date, requests without a due date last', () => {
  const items = [
    { number: 'A', created_at: '2026-12-01T10:00:00Z', due_at: '2026-12-20T10:00:00Z' },
    { number: 'B', created_at: '2026-12-03T10:00:00Z', due_at: null },
    { number: 'C', created_at: '2026-12-02T10:00:00Z', due_at: '2026-12-10T10:00:00Z' },
  ];
  assert.deepEqual(sortItems(items, 'newest').map((i) => i.number), ['B', 'C', 'A']);
  assert.deepEqual(sortItems(items, 'oldest').map((i) => i.number), ['A', 'C', 'B']);
  assert.deepEqual(sortItems(items, 'due').map((i) => i.number), ['C', 'A', 'B']);
});

test('the map keeps its place in the view, and only a sensible one is read back', () => {
  const view = withMapView(new URLSearchParams('demarche=voirie'), { lat: 48.1113387, lon: -1.6800198, zoom: 15 });
  assert.equal(view.toString(), 'demarche=voirie&at=48.11134%2C-1.68002%2C15');
  assert.deepEqual(mapViewOf(view), { lat: 48.11134, lon: -1.68002, zoom: 15 });
  // The place is not a filter: the API never gets it.
  assert.equal(apiParams(view).toString(), 'demarche=voirie');
  for (const bad of ['', '48.1,-1.6', '91,0,12', '48.1,-181,12', '48.1,-1.6,12.5', '48.1,-1.6,23', 'a,b,c', '48.1,-1.6,12,4']) {
    assert.equal(mapViewOf(new URLSearchParams({ at: bad })), null, bad);
  }
});
