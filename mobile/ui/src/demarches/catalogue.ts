// The catalogue and the démarches' definitions, fetched from the server and kept on the
// device, so that the list and a form already opened still show offline.
import { getCatalogue, getDefinition, NetworkError, type Demarche, type DemarcheDefinition } from '../api';

const LIST_KEY = 'guichet.catalogue.all';
const DEF_PREFIX = 'guichet.definition.';

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full: we fetch again next time */
  }
}

/** The last list kept on the device, if any. */
export function cachedCatalogue(): Demarche[] | null {
  return read<Demarche[]>(LIST_KEY);
}

export async function loadCatalogue(): Promise<Demarche[]> {
  const list = await getCatalogue();
  write(LIST_KEY, list);
  return list;
}

/** The definition from the server, or the one kept when the server cannot be reached. */
export async function loadDefinition(code: string): Promise<DemarcheDefinition> {
  try {
    const def = await getDefinition(code);
    write(DEF_PREFIX + code, def);
    return def;
  } catch (e) {
    const kept = e instanceof NetworkError ? read<DemarcheDefinition>(DEF_PREFIX + code) : null;
    if (kept) return kept;
    throw e;
  }
}
