-- Who wrote each démarche revision: `setup` (`guichet setup`, from a catalogue file) or
-- `admin` (an edit through the admin API, the default for any other writer). `guichet setup`
-- updates a démarche only while its current revision is its own, so that it never overwrites
-- an admin's edit. Revisions written before this column existed have no author (NULL):
-- setup takes one over only when it is identical to the file's entry.
ALTER TABLE demarche_revisions
    ADD COLUMN written_by text CHECK (written_by IN ('setup', 'admin'));
ALTER TABLE demarche_revisions
    ALTER COLUMN written_by SET DEFAULT 'admin';
