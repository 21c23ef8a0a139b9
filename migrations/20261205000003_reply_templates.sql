-- Answers agents send often, kept by supervisors: for one démarche, or for any when
-- demarche_code is NULL (the seed's knowledge base).
CREATE TABLE reply_templates (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    demarche_code text REFERENCES demarches (code),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    lang          text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
    updated_by    bigint REFERENCES agents (id),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reply_templates_demarche ON reply_templates (demarche_code);
