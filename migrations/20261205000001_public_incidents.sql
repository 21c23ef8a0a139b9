-- Which requests are public: only those of a démarche flagged as a public incident (a
-- pothole, a tag) show their place and number on the map, in clusters, in "already
-- reported?" and in webhook payloads. Any other request filed with a place (a contact
-- request with a home address) stays private, whatever its coordinates.
ALTER TABLE demarche_revisions
    ADD COLUMN public_incident boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT public_incidents_are_geolocated CHECK (geolocated OR NOT public_incident);

-- Until now every geolocated démarche was an incident report of the public space.
UPDATE demarche_revisions
   SET public_incident = true,
       definition = definition || '{"public_incident": true}'
 WHERE geolocated;

-- The one rule: every public read of a request's place goes through this view.
CREATE VIEW public_incidents AS
SELECT r.id, r.number, r.demarche_code, r.demarche_revision, r.phase, r.location, r.report_count, r.created_at
  FROM requests r
  JOIN demarche_revisions d
    ON d.demarche_code = r.demarche_code AND d.revision = r.demarche_revision
 WHERE d.public_incident AND r.location IS NOT NULL;
