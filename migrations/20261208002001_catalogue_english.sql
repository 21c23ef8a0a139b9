-- The English description and keywords of a démarche, next to the French ones. Revisions
-- written before them keep '' and an empty list, which the apps read as "French only".
ALTER TABLE demarche_revisions
    ADD COLUMN description_en text NOT NULL DEFAULT '',
    ADD COLUMN keywords_en    text[] NOT NULL DEFAULT '{}';
