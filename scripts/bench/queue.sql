-- Seed for scripts/bench/queue: on top of `guichet demo`, 40 teams, a benchmark agent and
-- :n requests (psql -v n=200000) over two years, a quarter of them open. Set-based and
-- deterministic (setseed), so two runs build the same data.
--
-- Shape:
--   teams      the 16 demo teams + 24 sectors; request counts fall off with the team id
--              (team 1 gets ~8.5 % of requests, team 40 ~1.7 %)
--   démarches  every active démarche at its current revision, with its workflow; incident
--              reports weigh most (~60 %), then answers, deliveries, decisions
--   open       every 4th request: received 35 %, in progress 50 %, waiting for the citizen
--              15 %; mostly recent (age = 730 d × u³, median ~3 months)
--   closed     the others, with an outcome valid for the workflow; age uniform over 2 years
--   due_at     created_at + 15 days, so most open requests not waiting are overdue
--   places     geolocated démarches: around the town hall of a commune picked by population
--              (±2 km), zone_id set; others have no place
--   channels   app 35 %, web 30 %, phone 12 %, e-mail 10 %, desk 8 %, mail 3 %, api 2 %
--              (web when the démarche does not take the channel drawn)
--   assignees  70 % of requests past `received`, 5 % of received ones
--   duplicates ~4 % of open incident reports flag an older request of the same démarche

\set ON_ERROR_STOP on
SELECT setseed(0.2026);

-- Teams: 40 in all.
INSERT INTO teams (code, name)
SELECT format('secteur-%s', lpad(k::text, 2, '0')), format('Secteur %s', k)
  FROM generate_series(1, 40 - (SELECT count(*) FROM teams)) k;

-- The benchmark agent: two of the biggest teams, the demo password.
INSERT INTO agents (email, name, role, password_hash)
SELECT 'bench.queue@guichet.example', 'Agent de mesure', 'agent', password_hash
  FROM agents WHERE email = 'agent.voirie@guichet.example';
INSERT INTO agent_teams (agent_id, team_id)
SELECT a.id, t.id FROM agents a, teams t
 WHERE a.email = 'bench.queue@guichet.example' AND t.code IN ('voirie', 'proprete');

-- Démarches, repeated by weight so that a uniform draw of a slot is a weighted draw.
CREATE TEMP TABLE dm_slot AS
SELECT (row_number() OVER (ORDER BY d.code, g) - 1)::int AS slot,
       d.code, r.revision, r.geolocated, r.channels,
       coalesce(r.definition->>'workflow',
                CASE WHEN r.geolocated THEN 'report' ELSE 'answer' END) AS workflow
  FROM demarches d
  JOIN demarche_revisions r ON r.demarche_code = d.code AND r.revision = d.current_revision
  CROSS JOIN LATERAL generate_series(1,
        CASE coalesce(r.definition->>'workflow',
                      CASE WHEN r.geolocated THEN 'report' ELSE 'answer' END)
             WHEN 'report' THEN 30 WHEN 'answer' THEN 6 WHEN 'delivery' THEN 3 ELSE 1 END
        * (1 + abs(hashtext(d.code)) % 4)) g
 WHERE d.active;

-- Communes, repeated by population (one slot per 2,000 inhabitants, at least one).
CREATE TEMP TABLE zone_slot AS
SELECT (row_number() OVER (ORDER BY z.id, g) - 1)::int AS slot, z.id, z.name,
       ST_Y(z.town_hall::geometry) AS lat, ST_X(z.town_hall::geometry) AS lon
  FROM zones z
  CROSS JOIN LATERAL generate_series(1, greatest(1, coalesce(z.population, 0) / 2000)) g
 WHERE z.town_hall IS NOT NULL;

-- Statuses of each workflow and phase, with their share within the phase.
CREATE TEMP TABLE st (workflow text, phase text, status text, outcome text, w int);
INSERT INTO st VALUES
    ('report', 'received', 'new', NULL, 1),
    ('report', 'in_progress', 'acknowledged', NULL, 2),
    ('report', 'in_progress', 'scheduled', NULL, 1),
    ('report', 'waiting_for_citizen', 'waiting_citizen', NULL, 1),
    ('report', 'closed', 'resolved', 'resolved', 80),
    ('report', 'closed', 'duplicate', 'duplicate', 10),
    ('report', 'closed', 'not_ours', 'redirected', 5),
    ('report', 'closed', 'rejected', 'rejected', 5),
    ('decision', 'received', 'submitted', NULL, 1),
    ('decision', 'in_progress', 'under_review', NULL, 1),
    ('decision', 'waiting_for_citizen', 'complement_requested', NULL, 1),
    ('decision', 'closed', 'accepted', 'resolved', 80),
    ('decision', 'closed', 'refused', 'rejected', 15),
    ('decision', 'closed', 'duplicate', 'duplicate', 5),
    ('delivery', 'received', 'received', NULL, 1),
    ('delivery', 'in_progress', 'in_preparation', NULL, 1),
    ('delivery', 'waiting_for_citizen', 'complement_requested', NULL, 1),
    ('delivery', 'closed', 'sent', 'resolved', 90),
    ('delivery', 'closed', 'impossible', 'rejected', 6),
    ('delivery', 'closed', 'duplicate', 'duplicate', 4),
    ('answer', 'received', 'received', NULL, 1),
    ('answer', 'in_progress', 'assigned', NULL, 1),
    ('answer', 'waiting_for_citizen', 'waiting_citizen', NULL, 1),
    ('answer', 'closed', 'answered', 'resolved', 75),
    ('answer', 'closed', 'redirected', 'redirected', 10),
    ('answer', 'closed', 'no_follow_up', 'no_follow_up', 10),
    ('answer', 'closed', 'duplicate', 'duplicate', 5);
CREATE TEMP TABLE st_range AS
SELECT workflow, phase, status, outcome,
       (sum(w) OVER (PARTITION BY workflow, phase ORDER BY status) - w)::float8
           / sum(w) OVER (PARTITION BY workflow, phase) AS lo,
       sum(w) OVER (PARTITION BY workflow, phase ORDER BY status)::float8
           / sum(w) OVER (PARTITION BY workflow, phase) AS hi
  FROM st;

-- One row of draws per request.
CREATE TEMP TABLE gen AS
SELECT i, i % 4 = 0 AS open,
       random() AS u_dm, random() AS u_team, random() AS u_age, random() AS u_phase,
       random() AS u_st, random() AS u_ch, random() AS u_zone, random() AS u_dx,
       random() AS u_dy, random() AS u_assign, random() AS u_who, random() AS u_lang,
       random() AS u_close
  FROM generate_series(1, :n) i;

CREATE TEMP TABLE draft AS
WITH base AS (
    SELECT g.*,
           now() - interval '730 days' * CASE WHEN g.open THEN g.u_age ^ 3 ELSE g.u_age END
               AS created_at,
           CASE WHEN NOT g.open THEN 'closed'
                WHEN g.u_phase < 0.35 THEN 'received'
                WHEN g.u_phase < 0.85 THEN 'in_progress'
                ELSE 'waiting_for_citizen' END AS phase,
           CASE WHEN g.u_ch < 0.35 THEN 'app' WHEN g.u_ch < 0.65 THEN 'web'
                WHEN g.u_ch < 0.77 THEN 'phone' WHEN g.u_ch < 0.87 THEN 'email'
                WHEN g.u_ch < 0.95 THEN 'desk' WHEN g.u_ch < 0.98 THEN 'mail'
                ELSE 'api' END AS channel_drawn
      FROM gen g
)
SELECT b.i, b.created_at, b.phase, d.code, d.revision, d.workflow, d.geolocated,
       CASE WHEN b.channel_drawn = ANY(d.channels) THEN b.channel_drawn ELSE 'web' END AS channel,
       s.status, s.outcome,
       (SELECT array_agg(id ORDER BY id) FROM teams)[1 + floor(40 * b.u_team ^ 1.5)::int] AS team_id,
       b.u_zone, b.u_dx, b.u_dy, b.u_assign, b.u_who, b.u_lang, b.u_close
  FROM base b
  JOIN dm_slot d ON d.slot = floor(b.u_dm * (SELECT count(*) FROM dm_slot))::int
  JOIN st_range s ON s.workflow = d.workflow AND s.phase = b.phase
                 AND b.u_st >= s.lo AND b.u_st < s.hi;

INSERT INTO requests
    (number, tracking_code_digest, demarche_code, demarche_revision, workflow, channel, status, phase,
     outcome, team_id, zone_id, location, location_accuracy_m, location_source, address,
     description, report_count, due_at, sla_paused_at, assignee_id, lang,
     created_at, updated_at, closed_at)
SELECT format('%s-BEN-%s', extract(year FROM x.created_at)::int,
              lpad((row_number() OVER (ORDER BY x.created_at, x.i))::text, 7, '0')),
       sha256(convert_to('bench' || x.i, 'UTF8')),
       x.code, x.revision, x.workflow, x.channel, x.status, x.phase, x.outcome, x.team_id,
       CASE WHEN x.geolocated THEN z.id END,
       CASE WHEN x.geolocated THEN ST_SetSRID(ST_MakePoint(z.lon + (x.u_dy - 0.5) * 0.06,
                                                           z.lat + (x.u_dx - 0.5) * 0.04),
                                              4326)::geography END,
       CASE WHEN x.geolocated THEN 5 + 25 * x.u_dx END,
       CASE WHEN x.geolocated THEN (CASE WHEN x.u_dy < 0.7 THEN 'gps' ELSE 'map' END) END,
       CASE WHEN x.geolocated THEN format('%s rue de la Mairie, %s', 1 + x.i % 120, z.name) END,
       'Demande de mesure n° ' || x.i,
       CASE WHEN x.workflow = 'report' THEN 1 + floor(4 * x.u_close ^ 4)::int ELSE 0 END,
       x.created_at + interval '15 days',
       CASE WHEN x.phase = 'waiting_for_citizen'
            THEN x.created_at + (now() - x.created_at) * (0.2 + 0.6 * x.u_close) END,
       CASE WHEN x.u_assign < (CASE WHEN x.phase = 'received' THEN 0.05 ELSE 0.7 END)
            THEN (SELECT array_agg(id ORDER BY id) FROM agents)
                     [1 + floor(x.u_who * (SELECT count(*) FROM agents))::int] END,
       CASE WHEN x.u_lang < 0.05 THEN 'en' ELSE 'fr' END,
       x.created_at,
       CASE WHEN x.phase = 'received' THEN x.created_at
            ELSE least(now(), x.created_at + interval '1 day' * (0.1 + 20 * x.u_close ^ 2)) END,
       CASE WHEN x.phase = 'closed'
            THEN least(now(), x.created_at + interval '1 day' * (0.1 + 20 * x.u_close ^ 2)) END
  FROM draft x
  LEFT JOIN zone_slot z ON z.slot = floor(x.u_zone * (SELECT count(*) FROM zone_slot))::int
 ORDER BY x.created_at, x.i;

-- The "created" event of each request (the timeline's first line).
INSERT INTO events (request_id, kind, public, actor, data, created_at)
SELECT id, 'created', true, 'citizen',
       jsonb_build_object('channel', channel, 'team_id', team_id), created_at
  FROM requests
 WHERE number LIKE '%-BEN-%'
 ORDER BY id;

-- Possible duplicates: an open incident report flagged against the previous request of its
-- démarche.
UPDATE requests r
   SET possible_duplicate_of = p.prev_id, dedup_score = (0.55 + 0.2 * p.u)::real
  FROM (SELECT id, random() AS u,
               lag(id) OVER (PARTITION BY demarche_code ORDER BY created_at, id) AS prev_id
          FROM requests WHERE workflow = 'report') p
 WHERE p.id = r.id AND p.prev_id IS NOT NULL AND p.u < 0.04
   AND r.phase IN ('received', 'in_progress', 'waiting_for_citizen');

-- Statistics and visibility map of every table, as autovacuum would leave them.
VACUUM ANALYZE;
