// French first, English available. The language is the one saved by the toggle, else the first
// of navigator.languages that we have, else French.

export type Lang = 'fr' | 'en';

const fr = {
  'app.name': 'Guichet',
  'app.tagline': 'Signaler un problème dans l’espace public',
  'skip': 'Aller au contenu',
  'nav.label': 'Menu principal',
  'nav.report': 'Signaler',
  'nav.mine': 'Mes signalements',
  'nav.pending': '{n} en attente',
  'lang.switch': 'English',
  'lang.switch.label': 'Switch to English',
  'net.offline': 'Hors ligne : vos signalements sont gardés sur cet appareil et partiront tout seuls.',
  'step': 'Étape {n} sur 4',
  'back': 'Retour',
  'continue': 'Continuer',

  'cat.title': 'Que voulez-vous signaler ?',
  'cat.intro': 'Choisissez le type de problème.',
  'cat.loading': 'Chargement des catégories…',
  'cat.offline': 'Liste enregistrée sur l’appareil (hors ligne).',

  'place.title': 'Où est-ce ?',
  'place.intro': 'Votre position GPS est utilisée. Vous pouvez déplacer l’épingle sur la carte, ou indiquer une commune et une adresse.',
  'place.gps.waiting': 'Recherche de votre position…',
  'place.gps.fix': 'Position GPS : {lat}, {lon} — précision ± {acc} m',
  'place.gps.denied': 'Position GPS non autorisée. Choisissez le lieu sur la carte ou indiquez une commune et une adresse.',
  'place.gps.unavailable': 'Position GPS indisponible. Choisissez le lieu sur la carte ou indiquez une commune et une adresse.',
  'place.gps.unsupported': 'Cet appareil ne donne pas de position. Choisissez le lieu sur la carte ou indiquez une commune et une adresse.',
  'place.gps.found': 'Position trouvée, précision ± {acc} m.',
  'place.gps.poor': 'La précision est faible : vérifiez l’épingle ou précisez l’adresse.',
  'place.useGps': 'Utiliser ma position',
  'place.map.label': 'Carte du lieu. Déplacez l’épingle ou touchez la carte pour choisir le lieu.',
  'place.map.pin': 'Lieu du problème (épingle déplaçable)',
  'place.map.cluster': '{n} signalements ouverts ici, zoomer',
  'place.map.incident': 'Signalement ouvert {number}',
  'place.alt.title': 'Sans carte',
  'place.commune': 'Commune',
  'place.commune.none': '— Choisir une commune —',
  'place.address': 'Adresse ou repère (facultatif)',
  'place.address.hint': 'Par exemple : devant le 12 rue de Brest, près de l’arrêt de bus.',
  'place.chosen.gps': 'Lieu retenu : votre position GPS (± {acc} m).',
  'place.chosen.map': 'Lieu retenu : l’épingle placée sur la carte.',
  'place.chosen.commune': 'Lieu retenu : {commune} (centre de la commune) ; précisez l’adresse.',
  'place.chosen.none': 'Aucun lieu choisi pour l’instant.',
  'place.error.none': 'Indiquez le lieu : autorisez la position, placez l’épingle sur la carte ou choisissez une commune.',
  'place.error.outside': 'Ce lieu est hors de Rennes Métropole : ce service ne le couvre pas.',
  'place.error.addressNeeded': 'Précisez l’adresse ou un repère : le centre de la commune ne suffit pas.',
  'place.moved': 'Épingle déplacée.',
  'place.checking': 'Recherche de signalements proches…',

  'nearby.title': 'Déjà signalé ?',
  'nearby.intro': 'Ces problèmes sont déjà signalés tout près. Si c’est le même, appuyez sur « Moi aussi » : c’est tout.',
  'nearby.distance': 'à {d}',
  'nearby.count.one': '1 signalement',
  'nearby.count.many': '{n} signalements',
  'nearby.photo': 'Photo du signalement {number}',
  'nearby.nophoto': 'Sans photo',
  'nearby.metoo': 'Moi aussi',
  'nearby.metoo.label': 'Moi aussi : même problème que le signalement {number}',
  'nearby.other': 'Non, c’est un autre problème',

  'details.title': 'Photos et description',
  'details.summary': '{category}, {place}',
  'details.photo.add': 'Prendre ou choisir une photo',
  'details.photo.hint': 'Jusqu’à 5 photos. Elles sont réduites sur votre appareil avant l’envoi.',
  'details.photo.max': 'Vous avez déjà 5 photos.',
  'details.photo.added': 'Photo ajoutée ({n} sur 5).',
  'details.photo.removed': 'Photo retirée.',
  'details.photo.alt': 'Photo {n}',
  'details.photo.remove': 'Retirer la photo {n}',
  'details.photo.list': 'Photos jointes',
  'details.description': 'Description (facultatif)',
  'details.description.hint': 'Ce que vous voyez, depuis quand, s’il y a un danger.',
  'details.chars': '{n} caractères restants',
  'details.email': 'Votre e-mail (facultatif)',
  'details.email.hint': 'Pour être prévenu de la suite. Il n’est jamais publié.',
  'details.email.invalid': 'Cette adresse e-mail n’est pas valide.',
  'details.send': 'Envoyer le signalement',
  'details.place.gps': 'position GPS',
  'details.place.map': 'épingle sur la carte',
  'details.place.commune': '{commune}',

  'receipt.title.sent': 'Signalement envoyé',
  'receipt.title.metoo': 'Merci, c’est noté',
  'receipt.title.pending': 'Signalement enregistré',
  'receipt.title.failed': 'Signalement refusé',
  'receipt.number': 'Numéro',
  'receipt.tracking': 'Code de suivi',
  'receipt.status': 'Statut',
  'receipt.count': 'Nombre de signalements',
  'receipt.dedup': 'Ce problème était déjà signalé : votre signalement y est ajouté.',
  'receipt.pending.online': 'Enregistré sur cet appareil. Envoi en cours…',
  'receipt.pending.offline': 'Enregistré sur cet appareil. Vous êtes hors ligne : il partira tout seul au retour du réseau.',
  'receipt.pending.retry': 'Enregistré sur cet appareil. L’envoi a échoué ({error}) ; nouvel essai automatique.',
  'receipt.mine': 'Voir mes signalements',
  'receipt.new': 'Nouveau signalement',
  'receipt.announce.sent': 'Signalement envoyé, numéro {number}.',
  'receipt.announce.saved': 'Signalement enregistré sur l’appareil.',

  'mine.title': 'Mes signalements',
  'mine.pending': 'En attente d’envoi',
  'mine.sent': 'Envoyés',
  'mine.empty': 'Aucun signalement pour l’instant.',
  'mine.saved': 'Enregistré le {date}',
  'mine.attempts': '{n} essai(s), dernier échec : {error}',
  'mine.nextTry': 'Prochain essai automatique vers {time}.',
  'mine.retry': 'Envoyer maintenant',
  'mine.delete': 'Supprimer',
  'mine.delete.label': 'Supprimer le signalement enregistré le {date}',
  'mine.failed': 'Refusé par le serveur : {error}',
  'mine.refresh': 'Actualiser les statuts',
  'mine.refreshed': 'Statuts actualisés.',
  'mine.refresh.failed': 'Impossible d’actualiser : hors ligne ?',
  'mine.metoo': '« Moi aussi » sur {number}',
  'mine.metoo.note': 'Vous avez dit « Moi aussi » sur ce signalement.',
  'mine.timeline': 'Suivi',
  'mine.filed': 'Déposé le {date}',
  'mine.status': 'Statut : {status}',
  'mine.count': 'Signalements : {n}',
  'mine.photos': 'Photos',
  'mine.notfound': 'Introuvable sur le serveur.',
  'mine.statusUnknown': 'Statut non encore consulté',

  'status.sending': 'Envoi en cours…',
  'status.sent': 'Envoyé : {number}',
  'status.synced': '{n} signalement(s) en attente envoyé(s).',
  'status.online': 'De nouveau en ligne.',
  'status.offline': 'Hors ligne.',
  'error.network': 'réseau indisponible',
  'error.server': 'erreur du serveur ({status})',
  'error.load': 'Chargement impossible.',
  'error.storage': 'Impossible d’enregistrer sur l’appareil : {error}',

  'phase.received': 'Reçue',
  'time.justNow': 'à l’instant',
  'footer': 'Service de la Ville de Rennes et de Rennes Métropole. Données personnelles : votre e-mail ne sert qu’à vous informer.',
};

type Key = keyof typeof fr;

const en: Record<Key, string> = {
  'app.name': 'Guichet',
  'app.tagline': 'Report a problem in public space',
  'skip': 'Skip to content',
  'nav.label': 'Main menu',
  'nav.report': 'Report',
  'nav.mine': 'My reports',
  'nav.pending': '{n} pending',
  'lang.switch': 'Français',
  'lang.switch.label': 'Passer en français',
  'net.offline': 'Offline: your reports are kept on this device and will be sent by themselves.',
  'step': 'Step {n} of 4',
  'back': 'Back',
  'continue': 'Continue',

  'cat.title': 'What do you want to report?',
  'cat.intro': 'Choose the kind of problem.',
  'cat.loading': 'Loading categories…',
  'cat.offline': 'List saved on the device (offline).',

  'place.title': 'Where is it?',
  'place.intro': 'Your GPS position is used. You can drag the pin on the map, or give a town and an address.',
  'place.gps.waiting': 'Finding your position…',
  'place.gps.fix': 'GPS position: {lat}, {lon} — accuracy ± {acc} m',
  'place.gps.denied': 'Location not allowed. Choose the place on the map or give a town and an address.',
  'place.gps.unavailable': 'GPS position unavailable. Choose the place on the map or give a town and an address.',
  'place.gps.unsupported': 'This device gives no position. Choose the place on the map or give a town and an address.',
  'place.gps.found': 'Position found, accuracy ± {acc} m.',
  'place.gps.poor': 'The accuracy is poor: check the pin or give the address.',
  'place.useGps': 'Use my position',
  'place.map.label': 'Map of the place. Drag the pin or tap the map to choose the place.',
  'place.map.pin': 'Place of the problem (draggable pin)',
  'place.map.cluster': '{n} open reports here, zoom in',
  'place.map.incident': 'Open report {number}',
  'place.alt.title': 'Without the map',
  'place.commune': 'Town',
  'place.commune.none': '— Choose a town —',
  'place.address': 'Address or landmark (optional)',
  'place.address.hint': 'For example: in front of 12 rue de Brest, near the bus stop.',
  'place.chosen.gps': 'Chosen place: your GPS position (± {acc} m).',
  'place.chosen.map': 'Chosen place: the pin placed on the map.',
  'place.chosen.commune': 'Chosen place: {commune} (town centre); please give the address.',
  'place.chosen.none': 'No place chosen yet.',
  'place.error.none': 'Give the place: allow location, place the pin on the map, or choose a town.',
  'place.error.outside': 'This place is outside Rennes Métropole: this service does not cover it.',
  'place.error.addressNeeded': 'Please give the address or a landmark: the town centre is not enough.',
  'place.moved': 'Pin moved.',
  'place.checking': 'Looking for reports nearby…',

  'nearby.title': 'Already reported?',
  'nearby.intro': 'These problems are already reported close by. If it is the same one, tap “Me too”: that is all.',
  'nearby.distance': '{d} away',
  'nearby.count.one': '1 report',
  'nearby.count.many': '{n} reports',
  'nearby.photo': 'Photo of report {number}',
  'nearby.nophoto': 'No photo',
  'nearby.metoo': 'Me too',
  'nearby.metoo.label': 'Me too: same problem as report {number}',
  'nearby.other': 'No, it is another problem',

  'details.title': 'Photos and description',
  'details.summary': '{category}, {place}',
  'details.photo.add': 'Take or choose a photo',
  'details.photo.hint': 'Up to 5 photos. They are shrunk on your device before sending.',
  'details.photo.max': 'You already have 5 photos.',
  'details.photo.added': 'Photo added ({n} of 5).',
  'details.photo.removed': 'Photo removed.',
  'details.photo.alt': 'Photo {n}',
  'details.photo.remove': 'Remove photo {n}',
  'details.photo.list': 'Attached photos',
  'details.description': 'Description (optional)',
  'details.description.hint': 'What you see, since when, whether it is dangerous.',
  'details.chars': '{n} characters left',
  'details.email': 'Your e-mail (optional)',
  'details.email.hint': 'To hear what happens next. It is never published.',
  'details.email.invalid': 'This e-mail address is not valid.',
  'details.send': 'Send the report',
  'details.place.gps': 'GPS position',
  'details.place.map': 'pin on the map',
  'details.place.commune': '{commune}',

  'receipt.title.sent': 'Report sent',
  'receipt.title.metoo': 'Thank you, noted',
  'receipt.title.pending': 'Report saved',
  'receipt.title.failed': 'Report refused',
  'receipt.number': 'Number',
  'receipt.tracking': 'Tracking code',
  'receipt.status': 'Status',
  'receipt.count': 'Number of reports',
  'receipt.dedup': 'This problem was already reported: your report is added to it.',
  'receipt.pending.online': 'Saved on this device. Sending…',
  'receipt.pending.offline': 'Saved on this device. You are offline: it will be sent by itself when the network is back.',
  'receipt.pending.retry': 'Saved on this device. Sending failed ({error}); it will be retried automatically.',
  'receipt.mine': 'See my reports',
  'receipt.new': 'New report',
  'receipt.announce.sent': 'Report sent, number {number}.',
  'receipt.announce.saved': 'Report saved on the device.',

  'mine.title': 'My reports',
  'mine.pending': 'Waiting to be sent',
  'mine.sent': 'Sent',
  'mine.empty': 'No reports yet.',
  'mine.saved': 'Saved on {date}',
  'mine.attempts': '{n} attempt(s), last failure: {error}',
  'mine.nextTry': 'Next automatic try around {time}.',
  'mine.retry': 'Send now',
  'mine.delete': 'Delete',
  'mine.delete.label': 'Delete the report saved on {date}',
  'mine.failed': 'Refused by the server: {error}',
  'mine.refresh': 'Refresh statuses',
  'mine.refreshed': 'Statuses refreshed.',
  'mine.refresh.failed': 'Could not refresh: offline?',
  'mine.metoo': '“Me too” on {number}',
  'mine.metoo.note': 'You said “Me too” on this report.',
  'mine.timeline': 'History',
  'mine.filed': 'Filed on {date}',
  'mine.status': 'Status: {status}',
  'mine.count': 'Reports: {n}',
  'mine.photos': 'Photos',
  'mine.notfound': 'Not found on the server.',
  'mine.statusUnknown': 'Status not checked yet',

  'status.sending': 'Sending…',
  'status.sent': 'Sent: {number}',
  'status.synced': '{n} pending report(s) sent.',
  'status.online': 'Back online.',
  'status.offline': 'Offline.',
  'error.network': 'network unavailable',
  'error.server': 'server error ({status})',
  'error.load': 'Could not load.',
  'error.storage': 'Could not save on the device: {error}',

  'phase.received': 'Received',
  'time.justNow': 'just now',
  'footer': 'A service of the City of Rennes and Rennes Métropole. Personal data: your e-mail is only used to keep you informed.',
};

/** English titles of the incident categories (`title_en` in assets/catalogue.json); the API gives French. */
const categoryEn: Record<string, string> = {
  'voirie': 'Road, pavement or pothole',
  'tags-graffitis': 'Tags and graffiti',
  'depot-sauvage': 'Illegal waste dumping',
  'eclairage-public': 'Faulty street lighting',
  'mobilier-urbain': 'Damaged street furniture',
  'espaces-verts': 'Green spaces, trees and playgrounds',
  'encombrants-abandonnes': 'Bulky items abandoned in the street',
  'proprete': 'Street cleanliness',
  'signalisation': 'Road signs and traffic lights',
  'autre-anomalie': 'Other issue in public space',
};

/** The incident categories, used until the catalogue has been loaded once (first use offline). */
export const FALLBACK_CATEGORIES: { code: string; title: string }[] = [
  { code: 'voirie', title: 'Chaussée, trottoir ou nid-de-poule' },
  { code: 'tags-graffitis', title: 'Tags et graffitis' },
  { code: 'depot-sauvage', title: 'Dépôt sauvage de déchets' },
  { code: 'eclairage-public', title: 'Éclairage public défaillant' },
  { code: 'mobilier-urbain', title: 'Mobilier urbain dégradé' },
  { code: 'espaces-verts', title: 'Espaces verts, arbres et aires de jeux' },
  { code: 'encombrants-abandonnes', title: 'Encombrants abandonnés sur la voie publique' },
  { code: 'proprete', title: "Propreté de l'espace public" },
  { code: 'signalisation', title: 'Signalisation et feux tricolores' },
  { code: 'autre-anomalie', title: "Autre anomalie sur l'espace public" },
];

const dicts: Record<Lang, Record<Key, string>> = { fr, en };
const STORAGE_KEY = 'guichet.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'fr' || saved === 'en') return saved;
  } catch {
    /* storage may be disabled */
  }
  const prefs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const p of prefs) {
    const base = (p || '').toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'fr';
}

let current: Lang = initialLang();

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = l;
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = dicts[current][key] ?? fr[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function categoryTitle(code: string, frTitle: string): string {
  return current === 'en' ? (categoryEn[code] ?? frTitle) : frTitle;
}

export function locale(): string {
  return current === 'en' ? 'en-GB' : 'fr-FR';
}

export function formatNumber(n: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

export function formatDistance(m: number): string {
  if (m < 1000) return `${formatNumber(Math.round(m))} m`;
  return `${formatNumber(m / 1000, 1)} km`;
}

export function formatAge(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const s = Math.round((then - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return t('time.justNow');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 60) return rtf.format(Math.round(s / 86400), 'day');
  return rtf.format(Math.round(s / (86400 * 30)), 'month');
}

export function formatDateTime(iso: string | number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(ms));
}

export type { Key as MessageKey };
