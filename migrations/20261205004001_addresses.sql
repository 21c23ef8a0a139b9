-- Addresses from the Base Adresse Nationale (BAN), so that a place reads "12 Rue de Paris
-- 35000 Rennes" rather than coordinates: the nearest address of a pin (reverse geocoding) and
-- an address search. `guichet import-addresses` fills both tables from a département's CSV
-- (adresses-35.csv).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE addresses (
    -- The BAN's interoperability key, e.g. 35238_2205_00012 or 35238_2205_00012_bis.
    id text PRIMARY KEY,
    -- The number in the street and its repetition index (bis, ter, a…).
    number integer,
    rep text,
    street text NOT NULL,
    -- Empty when the BAN gives none.
    postcode text NOT NULL,
    -- The commune (INSEE code and name) and, where communes merged, the former commune.
    citycode text NOT NULL,
    city text NOT NULL,
    old_city text NOT NULL,
    location geography(Point, 4326) NOT NULL
);

-- The nearest address of a point (`<->`, `ST_DWithin`).
CREATE INDEX addresses_location ON addresses USING gist (location);
-- The numbers of a street, and the communes a re-import replaces.
CREATE INDEX addresses_street ON addresses (citycode, street, postcode, old_city);

-- One row per street of a commune (about 20 times fewer rows than addresses), derived from
-- `addresses` by each import: the search ranks streets, then picks numbers in the best ones.
CREATE TABLE address_streets (
    citycode text NOT NULL,
    old_city text NOT NULL,
    street text NOT NULL,
    postcode text NOT NULL,
    city text NOT NULL,
    addresses integer NOT NULL,
    -- The street's address nearest to the middle of its addresses: on the street, always.
    location geography(Point, 4326) NOT NULL,
    -- Street and commune with accents and case folded, as the search compares them.
    search text GENERATED ALWAYS AS (
        search_fold(street || ' ' || city || CASE WHEN old_city = '' THEN '' ELSE ' ' || old_city END)
    ) STORED,
    PRIMARY KEY (citycode, street, postcode, old_city)
);

-- Words of a street or commune, typos tolerated (`<%`: word similarity of trigrams).
CREATE INDEX address_streets_search ON address_streets USING gin (search gin_trgm_ops);
