-- silences: silences of driftwatch's own alerts (alerts.Silences, made
-- through the API): one row per state of a silence; the newest
-- (inserted_at) counts, so expiring one early writes it again with its new
-- end. Every instance reads them back (LoadSilences).
CREATE TABLE IF NOT EXISTS silences (
    silence_id  String,
    matchers    String,
    starts_at   {{time}},
    ends_at     {{time}},
    created_by  String,
    comment     String,
    inserted_at UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY silence_id
{{dedupSettings}};

-- api_writes: the audit trail of the HTTP API: every write (a promotion, a
-- baseline build, a silence made or expired) with who made it (the token's
-- name and role), what and when. Written before the write is made: a write
-- that cannot be recorded is not made; a retried write of the same record
-- replaces it.
CREATE TABLE IF NOT EXISTS api_writes (
    at          {{time}},
    at_ns       UInt64,
    who         String,
    role        {{lc "String"}},
    action      {{lc "String"}},
    target      String,
    detail      String,
    inserted_at UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, at_ns, who, action, target)
{{dedupSettings}};
