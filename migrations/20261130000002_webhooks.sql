-- Signed webhooks to the city's other systems. A subscription names a URL, a shared secret
-- and the event types it wants; every event sent to it leaves a delivery row, which is what
-- administrators read to see failures. The outbox schedules the attempts.

CREATE TABLE webhook_subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    -- Kept in clear: the HMAC needs it, and a digest would not do.
    secret      text NOT NULL CHECK (length(secret) >= 16),
    events      text[] NOT NULL CHECK (
        cardinality(events) > 0
        AND events <@ ARRAY['request.created', 'request.status_changed',
                            'request.merged', 'request.closed']::text[]),
    active      boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Fan-out looks up the active subscriptions of an event type.
CREATE INDEX webhook_subscriptions_active_events ON webhook_subscriptions USING gin (events)
    WHERE active;

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id),
    -- One id per event, shared by its deliveries to every subscriber: receivers dedupe on it.
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    request_id      bigint REFERENCES requests (id),
    -- The exact bytes that are signed and sent, identical on every attempt.
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    -- HTTP status of the last answer; NULL when the last attempt got none (network error).
    last_status     int,
    last_error      text,
    next_attempt_at timestamptz,
    delivered_at    timestamptz,
    failed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, status, id DESC);
