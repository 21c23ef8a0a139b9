// Drafts of démarche forms, kept on the device while the citizen types, so that a reload, a
// closed tab or a detour through the login finds the answers again. Only the answers: picked
// files stay in the page (the form says so), since localStorage holds text.

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
}
