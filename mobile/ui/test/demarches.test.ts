// The pure parts of the démarche screens: finding a démarche (accents and case ignored), what
// its page says to prepare (from the form, never written twice), and the screens' messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPrepare, typeNames, type FieldLike } from '../src/demarches/facts.js';
import { en, fr, type Key } from '../src/demarches/messages.js';
import { byGroup, fold, search } from '../src/demarches/search.js';

const catalogue = [
  { code: 'acte-deces', title: 'Demande d’acte de décès', group: 'État civil', group_code: 'etat-civil', keywords: ['décès', 'acte'] },
  { code: 'encombrants', title: "Demande d'enlèvement d'objets encombrants", group: 'État civil', group_code: 'etat-civil', keywords: ['meuble', 'électroménager'] },
  { code: 'contact', title: 'Demande de contact', group: 'Relation avec les usagers', group_code: 'relation-usagers', keywords: ['question'] },
  { code: 'stage', title: 'Candidature spontanée', group: 'Relation avec les usagers', group_code: 'relation-usagers', keywords: ['emploi', 'stage', 'CV'] },
];

test('fold ignores case, accents, ligatures and punctuation', () => {
  assert.equal(fold('  ÉTAT-civil, Œuvre  '), 'etat civil oeuvre');
  assert.equal(fold("d'enlèvement"), 'd enlevement');
});

test('search matches every word at the start of a word of the title or keywords, titles first', () => {
  assert.deepEqual(search(catalogue, 'DECES').map((d) => d.code), ['acte-deces']);
  assert.deepEqual(search(catalogue, 'electro').map((d) => d.code), ['encombrants']);
  assert.deepEqual(search(catalogue, 'demande enlev').map((d) => d.code), ['encombrants']);
  // A title match ranks before a keyword-only one; ties keep the catalogue's order.
  assert.deepEqual(search(catalogue, 'stage').map((d) => d.code), ['stage']);
  assert.deepEqual(search(catalogue, 'demande').map((d) => d.code), ['acte-deces', 'encombrants', 'contact']);
  assert.deepEqual(search(catalogue, 'cv candidature').map((d) => d.code), ['stage']);
  assert.deepEqual(search(catalogue, 'piscine'), []);
  assert.deepEqual(search(catalogue, '  '), []);
});

// The catalogue as the English interface shows it: titles and descriptions in English, both
// languages' keywords.
const english = [
  {
    code: 'depot-sauvage', title: 'Illegal waste dumping', group: 'Reports about public space', group_code: 'signalement',
    description: 'Report waste dumped illegally in the street or in a natural area.',
    keywords: ['déchets', 'dépôt'], keywords_en: ['waste', 'Fly-tipping', 'rubbish'],
  },
  {
    code: 'proprete', title: 'Street cleanliness', group: 'Reports about public space', group_code: 'signalement',
    description: 'Report a full litter bin, dirt or animal mess in public space.',
    keywords: ['corbeille', 'propreté'], keywords_en: ['litter bin', 'cleaning'],
  },
];

test('in English, a search finds a démarche by an English keyword found nowhere else', () => {
  // "fly tipping" is in neither the title, the description nor the French keywords.
  assert.deepEqual(search(english, 'FLY TIPPING').map((d) => d.code), ['depot-sauvage']);
  assert.deepEqual(search(english, 'fly-tipp').map((d) => d.code), ['depot-sauvage']);
  // The French keywords still find it, accents ignored.
  assert.deepEqual(search(english, 'depot').map((d) => d.code), ['depot-sauvage']);
});

test('a search finds words of the description, after titles and keywords', () => {
  assert.deepEqual(search(english, 'illegally').map((d) => d.code), ['depot-sauvage']);
  // "street" is in one title and in the other's description: the title's first.
  assert.deepEqual(search(english, 'street').map((d) => d.code), ['proprete', 'depot-sauvage']);
  // "mess" (description) and "bin" (keyword) together.
  assert.deepEqual(search(english, 'bin mess').map((d) => d.code), ['proprete']);
});

test('byGroup keeps the catalogue order of groups and démarches', () => {
  const groups = byGroup(catalogue);
  assert.deepEqual(groups.map((g) => [g.code, g.title, g.items.map((d) => d.code)]), [
    ['etat-civil', 'État civil', ['acte-deces', 'encombrants']],
    ['relation-usagers', 'Relation avec les usagers', ['contact', 'stage']],
  ]);
});

const f = (id: string, kind: string, extra: Partial<FieldLike> = {}): FieldLike => ({ id, kind, label: id, label_en: `${id}-en`, ...extra });

test('what to prepare: required answers, block items, conditional answers and every file', () => {
  const form = {
    fields: [
      f('address', 'address', { required: true }),
      f('notes', 'text'),
      f('items', 'block', {
        required: true,
        fields: [f('kind', 'choice', { required: true }), f('quantity', 'integer', { required: true }), f('description', 'text')],
      }),
      f('consent', 'boolean', { required: true }),
      f('phone', 'phone', { required: true, when: { field: 'reply', equals: 'phone' } }),
      f('cv', 'file', { required: true, file: { max_bytes: 5242880, mime: ['application/pdf'] } }),
      f('photos', 'file', { file: { max_bytes: 10485760, mime: ['image/jpeg', 'image/png'], max_files: 3 } }),
      f('proof', 'file', { required: true, when: { field: 'reply', equals: 'post' }, file: { max_bytes: 1000, mime: ['application/pdf'] } }),
    ],
  };
  const p = toPrepare(form);
  assert.deepEqual(p.answers, [
    { label: 'address', label_en: 'address-en' },
    { label: 'items', label_en: 'items-en', items: [{ label: 'kind', label_en: 'kind-en' }, { label: 'quantity', label_en: 'quantity-en' }] },
  ]);
  assert.deepEqual(p.conditional, [{ label: 'phone', label_en: 'phone-en' }]);
  assert.deepEqual(p.files.map((x) => [x.label, x.required, x.max_files]), [['cv', true, 1], ['photos', false, 3], ['proof', false, 1]]);
  assert.deepEqual(toPrepare(null), { answers: [], conditional: [], files: [] });
});

test('media types read as people know them', () => {
  assert.equal(typeNames(['application/pdf', 'image/jpeg', 'image/png']), 'PDF, JPEG, PNG');
  assert.equal(typeNames(['application/x-unknown']), 'application/x-unknown');
});

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every message of the démarche screens has an English text with the same placeholders', () => {
  const keys = Object.keys(fr) as Key[];
  assert.deepEqual(Object.keys(en).sort(), [...keys].sort());
  for (const k of keys) {
    assert.ok(fr[k].trim() && en[k].trim(), `empty text for ${k}`);
    assert.deepEqual(placeholders(en[k]), placeholders(fr[k]), `placeholders of ${k}`);
  }
});
