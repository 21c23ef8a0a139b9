-- E-mails queued before tracking codes had holders carried the filer's code (and a link with
-- it) whoever they went to. Those still to be sent go without any code or code-bearing link;
-- their recipients follow with their own code (the filing's answer) or an agent's new one.
UPDATE outbox_jobs
   SET payload = jsonb_set(payload, '{body}', to_jsonb(
           regexp_replace(
               regexp_replace(payload->>'body', '[?&]tracking_code=[^[:space:]]*', '', 'g'),
               '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}', '-', 'g')))
 WHERE kind = 'email.send' AND done_at IS NULL AND failed_at IS NULL AND payload ? 'body'
   AND created_at < (SELECT installed_on FROM _sqlx_migrations WHERE version = 20261205001000);
