// The démarche editor's pure parts (tested in Node.js): the stored entry split into what the
// editor shows field by field and what it shows as JSON, and the options of a choice field as
// the editor writes them, one a line.

/**
 * The entry to edit, from the stored one (`GET /admin/demarches/{code}`, what `PUT` takes): its
 * form's fields apart (the editor shows them field by field) with what else the form holds, and
 * the rest as JSON, in which the team becomes the one of the démarche's routing rule for every
 * commune when there is one (routing may have changed since the entry was written, and saving
 * must not undo it). Everything else stays as stored, what the public catalogue does not show
 * (a dedup window or family) included.
 */
export function editableEntry(stored: Record<string, unknown>, team: string | null): { rest: Record<string, unknown>; form: Record<string, unknown>; fields: unknown[] } {
  const { form, ...rest } = stored;
  const { fields, ...formRest } = (form && typeof form === 'object' ? form : {}) as Record<string, unknown>;
  if (team) rest.team = team;
  return { rest, form: formRest, fields: Array.isArray(fields) ? fields : [] };
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
