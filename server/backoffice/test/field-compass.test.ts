// Bearings to compass points, and the links that hand a stop to the phone's navigation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compassPoint, normalise } from '../src/field/compass.js';
import { fr } from '../src/field/messages.js';
import { geoUri, webMapUrl } from '../src/field/navigate.js';

test('each point covers 45°, centred on its direction', () => {
  const table: [number, string][] = [
    [0, 'N'], [22.4, 'N'], [22.5, 'NE'], [45, 'NE'], [67.4, 'NE'], [67.5, 'E'], [90, 'E'],
    [135, 'SE'], [180, 'S'], [225, 'SW'], [270, 'W'], [315, 'NW'], [337.4, 'NW'], [337.5, 'N'], [359.9, 'N'],
  ];
  for (const [deg, point] of table) assert.equal(compassPoint(deg), point, `${deg}°`);
});

test('bearings out of [0, 360) are brought back', () => {
  assert.equal(normalise(-90), 270);
  assert.equal(normalise(720 + 45), 45);
  assert.equal(compassPoint(-45), 'NW');
  assert.equal(compassPoint(405), 'NE');
});

test('every point has its words', () => {
  for (const p of ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW']) assert.ok(fr[`compass.${p}` as keyof typeof fr], p);
});

test('geo: links carry the place and a label for the pin', () => {
  assert.equal(geoUri(48.1113, -1.68), 'geo:48.1113,-1.68?q=48.1113,-1.68');
  assert.equal(geoUri(48.111312345, -1.6800004, '2026-SIG-000012'), 'geo:48.111312,-1.68?q=48.111312,-1.68(2026-SIG-000012)');
  assert.equal(geoUri(48.1, -1.6, 'Rue de l’Horloge (face)'), `geo:48.1,-1.6?q=48.1,-1.6(${encodeURIComponent('Rue de l’Horloge (face)')})`);
  assert.equal(webMapUrl(48.1113, -1.68), 'https://www.openstreetmap.org/?mlat=48.1113&mlon=-1.68#map=18/48.1113/-1.68');
});
