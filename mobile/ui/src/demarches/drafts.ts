// Drafts of démarche forms, kept on the device while the citizen types, so that a reload, a
// closed tab or a detour through the login finds the answers again: the answers in
// localStorage (text, read at once when the form is drawn), the picked files in IndexedDB.
import { draftFiles } from '../db';

const PREFIX = 'guichet.draft.';

export interface Draft {
  data: Record<string, unknown>;
  /** ISO 8601. */
  saved_at: string;
}

export function readDraft(code: string): Draft | null {
  try {
    const raw = localStorage.getItem(PREFIX + code);
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}

export function saveDraft(code: string, data: Record<string, unknown>): void {
  try {
    if (Object.keys(data).length === 0) localStorage.removeItem(PREFIX + code);
    else localStorage.setItem(PREFIX + code, JSON.stringify({ data, saved_at: new Date().toISOString() }));
  } catch {
    /* storage full or disabled: the form still works, without a draft */
  }
}

export function dropDraft(code: string): void {
  try {
    localStorage.removeItem(PREFIX + code);
  } catch {
    /* ignore */
  }
  void draftFiles.remove(code).catch(() => undefined);
}

/** The files kept for a démarche's form (none when storage is unavailable). */
export async function readDraftFiles(code: string): Promise<Record<string, File[]>> {
  try {
    return (await draftFiles.get(code))?.files ?? {};
  } catch {
    return {};
  }
}

/** Keeps the files picked in a démarche's form; resolves once written (or failed quietly). */
export async function saveDraftFiles(code: string, files: Record<string, File[]>): Promise<void> {
  try {
    if (Object.keys(files).length === 0) await draftFiles.remove(code);
    else await draftFiles.put({ code, files });
  } catch {
    /* storage full or disabled: the files stay in the page only */
  }
}
