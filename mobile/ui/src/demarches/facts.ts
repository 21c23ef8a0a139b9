// What a démarche's page says before the form, derived from its definition rather than
// written twice: what to prepare (the required answers and the files) and how long it takes.
// Pure: no DOM, no imports, tested in Node.js (test/demarches.test.ts).

/** The part of a form field these facts read (see @guichet/web/forms/definition). */
export interface FieldLike {
  id: string;
  kind: string;
  label: string;
  label_en: string;
  required?: boolean;
  when?: unknown;
  file?: { max_bytes: number; mime: string[]; max_files?: number } | null;
  fields?: FieldLike[];
  min_items?: number | null;
}

export interface ToPrepare {
  /** Answers the form always asks for, by label (blocks with what each item asks). */
  answers: { label: string; label_en: string; items?: { label: string; label_en: string }[] }[];
  /** Answers asked only after some choices ("if you answer…"). */
  conditional: { label: string; label_en: string }[];
  /** Documents to have at hand, required or not, with their types and size. */
  files: { label: string; label_en: string; required: boolean; mime: string[]; max_bytes: number; max_files: number }[];
}

/** Kinds that are answers to know, not documents or places the form helps to give. */
function isAnswer(f: FieldLike): boolean {
  return f.kind !== 'file' && f.kind !== 'boolean';
}

export function toPrepare(form: { fields: FieldLike[] } | null | undefined): ToPrepare {
  const out: ToPrepare = { answers: [], conditional: [], files: [] };
  const visit = (fields: FieldLike[], inConditional: boolean) => {
    for (const f of fields) {
      const conditional = inConditional || !!f.when;
      if (f.kind === 'file') {
        const rules = f.file ?? { max_bytes: 0, mime: [] };
        out.files.push({
          label: f.label, label_en: f.label_en, required: !!f.required && !conditional,
          mime: rules.mime, max_bytes: rules.max_bytes, max_files: rules.max_files ?? 1,
        });
        continue;
      }
      if (!f.required || !isAnswer(f)) continue;
      if (conditional) {
        out.conditional.push({ label: f.label, label_en: f.label_en });
      } else if (f.kind === 'block') {
        const items = (f.fields ?? []).filter((x) => x.required && isAnswer(x) && !x.when).map((x) => ({ label: x.label, label_en: x.label_en }));
        out.answers.push({ label: f.label, label_en: f.label_en, items });
      } else {
        out.answers.push({ label: f.label, label_en: f.label_en });
      }
      if (f.kind === 'block') visit((f.fields ?? []).filter((x) => x.kind === 'file'), conditional);
    }
  };
  visit(form?.fields ?? [], false);
  return out;
}

/** Short names of media types, as people know them. */
const TYPE_NAMES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/*': 'image',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word (.docx)',
  'application/vnd.oasis.opendocument.text': 'OpenDocument (.odt)',
  'application/msword': 'Word (.doc)',
};

export function typeNames(mime: string[]): string {
  return [...new Set(mime.map((m) => TYPE_NAMES[m] ?? m))].join(', ');
}
