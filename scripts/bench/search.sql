-- Callers for the phone desk's search (scripts/bench/queue): on top of queue.sql, every
-- request gets a caller (first and last name drawn from common French ones, an e-mail, a
-- mobile number) and a description made of everyday phrases, so that names, phones and
-- words match as many requests as they would in a city. Deterministic (setseed).

\set ON_ERROR_STOP on
SELECT setseed(0.1205);

CREATE TEMP TABLE first_names AS
SELECT row_number() OVER () - 1 AS k, n FROM unnest(ARRAY[
  'Marie', 'Jean', 'Léa', 'Hugo', 'Camille', 'Lucas', 'Chloé', 'Louis', 'Manon', 'Gabriel',
  'Inès', 'Arthur', 'Sarah', 'Jules', 'Emma', 'Nathan', 'Zoé', 'Paul', 'Anaïs', 'Théo',
  'Hélène', 'Pierre', 'Élodie', 'François', 'Céline', 'Noël', 'Maëlle', 'Yann', 'Gwenaëlle',
  'Erwan']) n;
CREATE TEMP TABLE last_names AS
SELECT row_number() OVER () - 1 AS k, n FROM unnest(ARRAY[
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau',
  'Laurent', 'Simon', 'Michel', 'Lefèvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel',
  'Fournier', 'Girard', 'Bonnet', 'Dupont', 'Lambert', 'Fontaine', 'Rousseau', 'Vincent',
  'Muller', 'Le Gall', 'Le Goff', 'Guillou', 'Le Roux', 'Tanguy', 'Le Bihan', 'Riou',
  'Jégou', 'Hamon', 'Le Corre', 'Prigent', 'Even', 'Quéré']) n;
CREATE TEMP TABLE phrases AS
SELECT row_number() OVER () - 1 AS k, n FROM unnest(ARRAY[
  'Nid-de-poule profond sur la chaussée', 'Trottoir abîmé devant l''école',
  'Lampadaire éteint depuis plusieurs jours', 'Dépôt sauvage de déchets au pied des conteneurs',
  'Tags sur la façade de la médiathèque', 'Banc cassé dans le square',
  'Branche tombée sur le passage piéton', 'Panneau stop plié', 'Bouche d''égout bouchée',
  'Demande de renseignements sur les horaires', 'Question sur la carte d''identité',
  'Inscription à la cantine pour la rentrée', 'Demande d''acte de naissance',
  'Encombrants à enlever devant l''immeuble', 'Odeurs près du marché couvert',
  'Feu tricolore en panne au carrefour', 'Haie qui déborde sur le trottoir',
  'Stationnement gênant devant le garage', 'Réclamation sur la collecte des déchets',
  'Remerciements pour l''intervention rapide']) n;

UPDATE requests r
   SET contact_name = f.n || ' ' || l.n,
       contact_email = lower(translate(f.n || '.' || replace(l.n, ' ', ''),
                                       'éèêëàâäïîôöùûüçÉ', 'eeeeaaaiioouuucE'))
                       || (r.id % 97) || '@example.org',
       contact_phone = '+336' || lpad((r.id * 7919 % 100000000)::text, 8, '0'),
       description = p.n || ' (' || r.number || ')'
  FROM (SELECT id, floor(random() * 30)::int AS kf, floor(random() * 40)::int AS kl,
               floor(random() * 20)::int AS kp
          FROM requests) x
  JOIN first_names f ON f.k = x.kf
  JOIN last_names l ON l.k = x.kl
  JOIN phrases p ON p.k = x.kp
 WHERE r.id = x.id;
ANALYZE requests;
