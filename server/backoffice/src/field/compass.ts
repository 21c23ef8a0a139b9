// Which way to walk to the next stop: the server gives a bearing in degrees (0 = north,
// clockwise); the list says it as one of eight compass points, with an arrow turned to it.
// Pure, for the unit tests.

export const POINTS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'] as const;
export type CompassPoint = (typeof POINTS)[number];

/** The bearing brought into [0, 360). */
export function normalise(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

/** The nearest of the eight points: each covers 45°, north from 337.5° to 22.5°. */
export function compassPoint(deg: number): CompassPoint {
  return POINTS[Math.round(normalise(deg) / 45) % 8];
}
