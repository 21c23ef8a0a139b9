#!/usr/bin/env python3
"""Writes the demo's address sample (assets/addresses-sample.csv) and the tests' address
fixture (tests/fixtures/adresses-fixture.csv) in the CSV format of the Base Adresse Nationale.

The Rennes streets are real streets near the town hall, drawn as rough lines; the other
communes' streets are plausible names. The numbers and positions along them are made up (odd
numbers on one side, even on the other), and so are the BAN ids.
Nothing is downloaded. Standard library only: python3 scripts/make-address-sample.py"""
import math
import os
import unicodedata

HEADER = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;"
    "code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;"
    "libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;"
    "cad_parcelles"
)

# (INSEE code, name, postcode, routing name)
RENNES = ("35238", "Rennes", "35000", "RENNES")
CESSON = ("35051", "Cesson-Sévigné", "35510", "CESSON SEVIGNE")
SAINT_JACQUES = ("35281", "Saint-Jacques-de-la-Lande", "35136", "ST JACQUES DE LA LANDE")
BRUZ = ("35047", "Bruz", "35170", "BRUZ")
CHANTEPIE = ("35055", "Chantepie", "35135", "CHANTEPIE")
VERN = ("35352", "Vern-sur-Seiche", "35770", "VERN SUR SEICHE")

# (commune, FANTOIR code of the street, name, [(lat, lon), …] along the street, highest number,
#  numbers that also have a "bis")
SAMPLE = [
    (RENNES, "1780", "Place de la Mairie", [(48.11105, -1.68070), (48.11085, -1.67960)], 10, []),
    (RENNES, "1660", "Rue Le Bastard", [(48.11125, -1.68055), (48.11290, -1.68135), (48.11375, -1.68160)], 24, [5]),
    (RENNES, "2050", "Rue d'Orléans", [(48.11075, -1.67930), (48.10985, -1.67860)], 14, []),
    (RENNES, "0640", "Rue de Brilhac", [(48.11150, -1.68110), (48.11255, -1.68200)], 12, []),
    (RENNES, "1980", "Rue Nationale", [(48.11185, -1.67935), (48.11235, -1.67710)], 20, [3]),
    (RENNES, "1070", "Rue d'Estrées", [(48.11215, -1.68090), (48.11300, -1.67960)], 12, []),
    (RENNES, "2560", "Rue de Rohan", [(48.11160, -1.68215), (48.11250, -1.68300)], 10, []),
    (RENNES, "2110", "Rue de Paris", [(48.11340, -1.67010), (48.11455, -1.66330), (48.11565, -1.65870)], 60, [12]),
    (RENNES, "1765", "Quai Lamartine", [(48.10960, -1.68310), (48.10985, -1.67880)], 20, []),
    (CESSON, "0470", "Rue de Rennes", [(48.11985, -1.61050), (48.11955, -1.60430)], 30, []),
    (CESSON, "0800", "Cours de la Vilaine", [(48.11880, -1.60320), (48.11765, -1.59900)], 16, []),
    (CESSON, "0740", "Place du Marché", [(48.12010, -1.60305), (48.12030, -1.60220)], 6, []),
    (SAINT_JACQUES, "0430", "Rue Jean Jaurès", [(48.08020, -1.71690), (48.07880, -1.71190)], 24, []),
    (SAINT_JACQUES, "0255", "Esplanade de la Mairie", [(48.07945, -1.71420), (48.07910, -1.71320)], 6, []),
    (BRUZ, "0010", "Avenue Alphonse Legault", [(48.02520, -1.74950), (48.02360, -1.74330)], 30, []),
    (BRUZ, "0620", "Rue de Rennes", [(48.02460, -1.74620), (48.02900, -1.74480)], 20, []),
    (BRUZ, "0245", "Place du Docteur Joly", [(48.02435, -1.74670), (48.02405, -1.74590)], 8, []),
]

# The tests' own streets, in communes the demo sample leaves out: the same street name in two
# communes (bias), a "bis" (ranking), accents (folding).
FIXTURE = [
    (CHANTEPIE, "0620", "Rue de Paris", [(48.08950, -1.62450), (48.09110, -1.61600)], 20, [12]),
    (CHANTEPIE, "0300", "Rue de l'Église", [(48.08790, -1.62130), (48.08700, -1.61800)], 10, []),
    (CHANTEPIE, "0090", "Allée des Châtaigniers", [(48.08560, -1.62420), (48.08500, -1.62280)], 6, []),
    (VERN, "0510", "Rue de Paris", [(48.04560, -1.60400), (48.04700, -1.59880)], 10, []),
    (VERN, "0480", "Place de la Mairie", [(48.04470, -1.60170), (48.04450, -1.60090)], 5, []),
]


def lambert93(lat, lon):
    """RGF93 / Lambert-93 (EPSG:2154) coordinates of a WGS84 point, in metres."""
    a, f = 6378137.0, 1 / 298.257222101
    e = math.sqrt(f * (2 - f))
    phi1, phi2, phi0 = map(math.radians, (49.0, 44.0, 46.5))
    lon0 = math.radians(3.0)
    x0, y0 = 700000.0, 6600000.0

    def m(phi):
        return math.cos(phi) / math.sqrt(1 - (e * math.sin(phi)) ** 2)

    def t(phi):
        s = e * math.sin(phi)
        return math.tan(math.pi / 4 - phi / 2) / ((1 - s) / (1 + s)) ** (e / 2)

    n = (math.log(m(phi1)) - math.log(m(phi2))) / (math.log(t(phi1)) - math.log(t(phi2)))
    big_f = m(phi1) / (n * t(phi1) ** n)
    rho0 = a * big_f * t(phi0) ** n
    phi, lam = math.radians(lat), math.radians(lon)
    rho = a * big_f * t(phi) ** n
    theta = n * (lam - lon0)
    return x0 + rho * math.sin(theta), y0 + rho0 - rho * math.cos(theta)


def afnor(text):
    """The postal form of a name: upper case, no accents, no apostrophes or hyphens."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(bare.replace("'", " ").replace("-", " ").upper().split())


def along(points, share):
    """The point at `share` (0 to 1) of the length of a line, and the line's direction there."""
    lengths = [math.dist(p, q) for p, q in zip(points, points[1:])]
    target = share * sum(lengths)
    for (p, q), length in zip(zip(points, points[1:]), lengths):
        if target <= length or q == points[-1]:
            k = target / length if length else 0
            return (p[0] + k * (q[0] - p[0]), p[1] + k * (q[1] - p[1])), (q[0] - p[0], q[1] - p[1])
        target -= length
    return points[-1], (0.0, 0.0)


def lines(streets):
    out = []
    for (insee, city, postcode, routing), fantoir, street, points, highest, bis in streets:
        numbers = [(n, "") for n in range(1, highest + 1)] + [(n, "bis") for n in bis]
        for number, rep in sorted(numbers):
            # Odd numbers on the left, even on the right, 8 m from the middle of the street.
            (lat, lon), (dlat, dlon) = along(points, (number - 0.5) / highest)
            scale = math.cos(math.radians(lat))
            norm = math.hypot(dlat, dlon * scale) or 1.0
            side = 1 if number % 2 else -1
            offset = 8 / 111_320 * side
            lat += -dlon * scale / norm * offset
            lon += dlat / norm * offset / scale
            if rep:
                lat, lon = lat + 0.00004, lon + 0.00004
            x, y = lambert93(lat, lon)
            key = f"{insee}_{fantoir}_{number:05d}" + (f"_{rep}" if rep else "")
            out.append(";".join([
                key, f"{insee}_{fantoir}", str(number), rep, street, postcode, insee, city, "", "",
                f"{x:.2f}", f"{y:.2f}", f"{lon:.6f}", f"{lat:.6f}", "entrée", "", "", routing,
                afnor(street), "commune", "commune", "1", "",
            ]))
    return out


def write(path, streets):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, path), "w", encoding="utf-8", newline="\n") as f:
        f.write(HEADER + "\n")
        for line in lines(streets):
            f.write(line + "\n")


if __name__ == "__main__":
    write("assets/addresses-sample.csv", SAMPLE)
    os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"), exist_ok=True)
    write("tests/fixtures/adresses-fixture.csv", FIXTURE)
