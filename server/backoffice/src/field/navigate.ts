// Links that hand a stop to the phone's own navigation: a `geo:` URI (RFC 5870), which Android
// and most navigation apps open, and a web map for a desktop or a phone without such an app.
// Pure, for the unit tests.

const coord = (x: number) => x.toFixed(6).replace(/\.?0+$/, '');

/** `geo:lat,lon?q=lat,lon(label)`: the `q` makes apps drop a pin with the label. */
export function geoUri(lat: number, lon: number, label?: string): string {
  const at = `${coord(lat)},${coord(lon)}`;
  const q = label ? `${at}(${encodeURIComponent(label)})` : at;
  return `geo:${at}?q=${q}`;
}

/** The place on OpenStreetMap's web map, zoomed to the street. */
export function webMapUrl(lat: number, lon: number): string {
  const la = coord(lat);
  const lo = coord(lon);
  return `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=18/${la}/${lo}`;
}
