// Regenerates src/data/communes.json from the project's communes asset:
// the 43 communes of Rennes Métropole (name, INSEE code, town-hall point, simplified outline),
// coordinates rounded to 5 decimals (~1 m). The UI uses it offline: the base layer of the map
// when no tile server is configured, the commune list of the non-map place form, and a check
// that a point lies in the service area before a report is queued.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../../assets/rennes-metropole-communes.geojson', import.meta.url));
const dst = fileURLToPath(new URL('../src/data/communes.json', import.meta.url));
const round = (x) => Math.round(x * 1e5) / 1e5;
const roundDeep = (c) => (typeof c === 'number' ? round(c) : c.map(roundDeep));

const fc = JSON.parse(readFileSync(src, 'utf8'));
const communes = fc.features
  .map((f) => ({
    insee: f.properties.insee,
    name: f.properties.name,
    town_hall: roundDeep(f.properties.town_hall),
    geometry: { type: f.geometry.type, coordinates: roundDeep(f.geometry.coordinates) },
  }))
  .sort((a, b) => a.name.localeCompare(b.name, 'fr'));
writeFileSync(dst, JSON.stringify(communes) + '\n');
console.log(`${communes.length} communes -> ${dst}`);
