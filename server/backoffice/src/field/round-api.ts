// The field agent's round (`GET /api/v1/agent/round`): the open geolocated requests of my teams,
// assigned to me or to nobody, ordered as a walk from a starting point, each with the distance
// and the bearing from the stop before it.
import { agentCall } from '../api';

export interface RoundStop {
  request_number: string;
  lat: number;
  lon: number;
  demarche: string;
  demarche_title: string;
  status: string;
  status_label: string;
  phase: string;
  address: string | null;
  filed_at: string;
  due_at: string | null;
  overdue: boolean;
  assigned_to_me: boolean;
  /** From the previous stop; for the first one, from the origin. */
  distance_m: number;
  /** From the previous stop, 0 = north, clockwise. */
  bearing_deg: number;
  thumbnail_url: string | null;
  description: string;
}

export interface Round {
  origin: { lat: number; lon: number };
  stops: RoundStop[];
  total_m: number;
  truncated: boolean;
}

/** What the agent narrows the round to (the API takes every filter of the queue). */
export interface RoundFilters {
  /** Only the requests assigned to me (not those of nobody). */
  mine?: boolean;
  overdue?: boolean;
  /** Stops at most (the nearest are kept); the server's default is [`DEFAULT_ROUND_LIMIT`]. */
  limit?: number;
}

export const ROUND_LIMITS = [20, 50, 100, 200] as const;
/** The server's own limit when none is asked. */
export const DEFAULT_ROUND_LIMIT = 50;

export function getRound(origin: { lat: number; lon: number }, filters: RoundFilters = {}): Promise<Round> {
  const q = new URLSearchParams({ lat: origin.lat.toFixed(6), lon: origin.lon.toFixed(6) });
  if (filters.limit) q.set('limit', String(filters.limit));
  if (filters.mine) q.set('assignee', 'me');
  if (filters.overdue) q.set('overdue', 'true');
  return agentCall<Round>(`/agent/round?${q}`, {}, 20000).then((r) => r.body);
}
