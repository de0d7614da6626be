-- Demo data for scripts/demo.sh (beside pgbench's tables): users, orders and 100k JSON events.
SELECT setseed(0.42);

CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL,
    country    text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO users (email, name, country, created_at)
SELECT 'user' || g || '@example.test',
       initcap((ARRAY['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'dennis', 'frances'])[1 + g % 8])
           || ' ' || initcap(substr(md5(g::text), 1, 6 + g % 5)),
       (ARRAY['DE', 'FR', 'NL', 'SE', 'US', 'BR', 'JP', 'IN'])[1 + (g * 7) % 8],
       timestamptz '2026-01-01' + g * interval '37 minutes'
FROM generate_series(1, 5000) AS g;

CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    total_cents integer NOT NULL,
    currency    text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL
);
INSERT INTO orders (user_id, total_cents, currency, status, created_at)
SELECT 1 + (random() * 4999)::int, 100 + (random() * 250000)::int,
       (ARRAY['EUR', 'USD', 'SEK'])[1 + g % 3],
       (ARRAY['paid', 'paid', 'paid', 'shipped', 'refunded', 'cancelled'])[1 + g % 6],
       timestamptz '2026-02-01' + g * interval '11 minutes'
FROM generate_series(1, 20000) AS g;

CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    user_id    bigint,
    kind       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO events (user_id, kind, payload, created_at)
SELECT 1 + (random() * 4999)::int,
       (ARRAY['login', 'view', 'search', 'add_to_cart', 'purchase', 'logout'])[1 + g % 6],
       jsonb_build_object(
           'path', '/items/' || (g * 31) % 9973,
           'query', (ARRAY['red shoes', 'usb-c cable', 'backup drive', 'tea', 'lamp', 'notebook'])[1 + g % 6]
                    || ' ' || substr(md5(g::text), 1, 2 + g % 9),
           'agent', (ARRAY['firefox/128', 'chromium/131', 'curl/8.5', 'safari/17'])[1 + g % 4],
           'latency_ms', (random() * 900)::int,
           'note', repeat(substr('lorem ipsum dolor sit amet consectetur adipiscing elit ', 1 + g % 40), 1 + g % 3)),
       timestamptz '2026-03-01' + g * interval '17 seconds'
FROM generate_series(1, 100000) AS g;
CREATE INDEX events_user_id ON events (user_id);

ANALYZE;
