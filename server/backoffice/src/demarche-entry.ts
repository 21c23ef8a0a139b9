// The démarche editor's pure parts (tested in Node.js): the entry `PUT /admin/demarches/{code}`
// takes, made from what `GET /catalogue/{code}` gives clients, and the options of a choice
// field as the editor writes them, one a line.

/**
 * The entry to edit: the client's names mapped back to the catalogue's (`group_code` →
 * `group`, the workflow object → its code, `dedup_radius_m` → `dedup`), what only clients need
 * dropped (the group's English title among them), and the team of the démarche's routing rule
 * for every commune when the answer has none. What `GET /catalogue/{code}` does not say (a
 * dedup window or group, for one) is not there: the admin adds it in the JSON.
 */
export function entryOf(def: Record<string, unknown>, team: string | null): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...def };
  delete rest.form;
  delete rest.submit;
  delete rest.revision;
  if (typeof rest.group_code === 'string') rest.group = rest.group_code;
  delete rest.group_code;
  // The group's titles belong to the group, not to the démarche.
  delete rest.group_en;
  const wf = rest.workflow as { code?: string } | null | undefined;
  if (wf && typeof wf === 'object') rest.workflow = wf.code;
  if (typeof rest.dedup_radius_m === 'number') rest.dedup = { radius_m: rest.dedup_radius_m };
  delete rest.dedup_radius_m;
  if (team && !rest.team) rest.team = team;
  return rest;
}

export interface OptionLine {
  value: string;
  label: string;
  label_en: string;
}

/** `value | libellé | label` per line; blank lines skipped; the number (1-based) of the first bad line. */
export function parseOptionLines(text: string): { options: OptionLine[] } | { badLine: number } {
  const options: OptionLine[] = [];
  const lines = text.split('\n').map((l) => l.trim());
  let n = 0;
  for (const line of lines) {
    n += 1;
    if (!line) continue;
    const parts = line.split('|').map((x) => x.trim());
    if (parts.length !== 3 || parts.some((x) => !x)) return { badLine: n };
    options.push({ value: parts[0], label: parts[1], label_en: parts[2] });
  }
  return { options };
}

export function optionLines(options: OptionLine[] | undefined): string {
  return (options ?? []).map((o) => `${o.value} | ${o.label} | ${o.label_en}`).join('\n');
}
