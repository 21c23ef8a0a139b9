// One reading of the phone's position (navigator.geolocation), as a promise: for "start from
// here", relocating a request and a new report. Always a fresh reading (no cached fix): the
// agent has moved since the last one, and where they stand now is the point.
export interface Fix {
  lat: number;
  lon: number;
  /** Metres. */
  accuracy: number;
  /** Epoch ms. */
  at: number;
}

export type PositionFailure = 'denied' | 'unavailable' | 'unsupported';

export class PositionError extends Error {
  constructor(public why: PositionFailure) {
    super(why);
  }
}

export function currentPosition(timeoutMs = 20000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new PositionError('unsupported'));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: p.timestamp }),
      (e) => reject(new PositionError(e.code === e.PERMISSION_DENIED ? 'denied' : 'unavailable')),
      { enableHighAccuracy: true, maximumAge: 0, timeout: timeoutMs },
    );
  });
}
