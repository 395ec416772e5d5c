"""Versioned schema migrations, applied in order when a database is opened.

Append new migrations to ``MIGRATIONS``; never edit one that has shipped. Conventions:
timestamps are TIMESTAMPTZ in UTC; rollup hours are BIGINT epoch seconds of the UTC hour
start (integer arithmetic is several times faster than ``date_trunc`` on TIMESTAMPTZ);
money is DECIMAL in US dollars; token counts are BIGINT.
"""

from __future__ import annotations

# Measures shared by the rollup tables (per UTC hour).
_ROLLUP_MEASURES = """
    rows BIGINT NOT NULL,             -- fact rows rolled into this one
    requests BIGINT,                  -- NULL when the source states no request count
    errors BIGINT,                    -- NULL when the source states no errors
    input_tokens BIGINT NOT NULL,     -- cached and cache-write tokens included
    cached_input_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cache_write_1h_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,    -- reasoning tokens included
    reasoning_tokens BIGINT NOT NULL,
    cost_usd DECIMAL(38, 12),         -- cost stated by the source; NULL when none
                                      -- (V12 adds cost_n: fact rows that state a cost)
    latency_sum_ms BIGINT,
    latency_n BIGINT
"""

V1 = f"""
CREATE SEQUENCE import_id_seq START 1;

CREATE TABLE imports (
    import_id BIGINT NOT NULL,
    file_name VARCHAR NOT NULL,
    content_hash VARCHAR,             -- sha256 of the file's bytes
    format VARCHAR,                   -- detected (or forced) format name
    source VARCHAR,                   -- the data stream rows belong to (dedup/replace scope)
    grain VARCHAR,                    -- request | usage | cost
    rows_read BIGINT,
    rows_new BIGINT,
    rows_duplicate BIGINT,
    rows_replaced BIGINT,
    period_start TIMESTAMPTZ,
    period_end TIMESTAMPTZ,           -- exclusive
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,          -- ok | failed | undone
    error VARCHAR,
    is_demo BOOLEAN NOT NULL DEFAULT false,
    undone_at TIMESTAMPTZ
);

CREATE TABLE request_events (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    event_key UBIGINT NOT NULL,       -- hash(request_id), else a hash of 16 of its columns
                                      -- (lib.ingest.requests.EVENT_KEY_SQL)
    ts TIMESTAMPTZ NOT NULL,
    request_id VARCHAR,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    user_id VARCHAR,
    status VARCHAR NOT NULL,          -- success | error
    http_status SMALLINT,
    error_code VARCHAR,
    error_type VARCHAR,
    error_message VARCHAR,
    latency_ms INTEGER,
    input_tokens BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    client_ip VARCHAR,
    origin VARCHAR,                   -- the web origin the request came from (not the import's)
    cost_usd DECIMAL(18, 10),
    batch BOOLEAN NOT NULL
);

CREATE TABLE usage_buckets (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    row_key UBIGINT NOT NULL,         -- hash of the whole row (exact-duplicate detection)
    kind VARCHAR NOT NULL,            -- completions, embeddings, images, messages, generic, ...
    bucket_start TIMESTAMPTZ NOT NULL,
    bucket_end TIMESTAMPTZ NOT NULL,  -- exclusive
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    user_id VARCHAR,
    service_tier VARCHAR,
    batch BOOLEAN NOT NULL,
    requests BIGINT,                  -- NULL when the source has no request count
    errors BIGINT,
    input_tokens BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    cache_write_1h_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    quantity DOUBLE,                  -- non-token usage: images, characters, seconds, bytes...
    quantity_unit VARCHAR,
    cost_usd DECIMAL(38, 12),
    replaced_by BIGINT                -- the newer import whose pull covers this bucket
);

CREATE TABLE cost_items (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    row_key UBIGINT NOT NULL,
    bucket_start TIMESTAMPTZ NOT NULL,
    bucket_end TIMESTAMPTZ NOT NULL,
    provider VARCHAR NOT NULL,
    project VARCHAR,                  -- OpenAI project id or Anthropic workspace id
    api_key VARCHAR,
    line_item VARCHAR,                -- OpenAI line_item or Anthropic description
    model VARCHAR,
    cost_type VARCHAR,
    token_type VARCHAR,
    service_tier VARCHAR,
    amount DECIMAL(38, 12) NOT NULL,  -- in ``currency`` units (dollars, not cents)
    currency VARCHAR NOT NULL,        -- ISO 4217, upper case
    quantity DOUBLE,
    quantity_unit VARCHAR,
    replaced_by BIGINT
);

-- Buckets an API pull covered, empty ones included: a newer pull replaces what they hold.
CREATE TABLE bucket_coverage (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    bucket_start TIMESTAMPTZ NOT NULL,
    bucket_end TIMESTAMPTZ NOT NULL
);

CREATE TABLE agg_hourly (
    import_id BIGINT NOT NULL,
    grain VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    hour BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    batch BOOLEAN NOT NULL,
    {_ROLLUP_MEASURES}
);

-- Per user, per UTC day (users are too many for an hourly rollup to stay small).
CREATE TABLE agg_user_daily (
    import_id BIGINT NOT NULL,
    grain VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    day BIGINT NOT NULL,              -- epoch second of the UTC day start
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    user_id VARCHAR,
    batch BOOLEAN NOT NULL,
    {_ROLLUP_MEASURES}
);

CREATE TABLE agg_error_hourly (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    hour BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    http_status SMALLINT,
    error_type VARCHAR,
    error_code VARCHAR,
    errors BIGINT NOT NULL
);

CREATE TABLE prices (
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    effective_from DATE NOT NULL,     -- the price is in force from this UTC day on
    input_per_mtok DECIMAL(18, 6) NOT NULL,
    cached_input_per_mtok DECIMAL(18, 6),
    cache_write_5m_per_mtok DECIMAL(18, 6),
    cache_write_1h_per_mtok DECIMAL(18, 6),
    output_per_mtok DECIMAL(18, 6) NOT NULL,
    batch_discount DECIMAL(6, 4) NOT NULL DEFAULT 0,  -- 0.5 = 50 % off with the batch API
    note VARCHAR
);

CREATE TABLE settings (
    key VARCHAR NOT NULL,
    value VARCHAR
);

-- Live rows: usage and cost buckets not replaced by a newer pull.
CREATE VIEW live_usage AS SELECT * FROM usage_buckets WHERE replaced_by IS NULL;
CREATE VIEW live_costs AS SELECT * FROM cost_items WHERE replaced_by IS NULL;

-- Two sources describing the same traffic are never added together. Per provider and UTC
-- day, tokens and requests are counted from one stream: a provider usage API pull, else
-- another usage export, else the request events of every gateway/log source together.
CREATE VIEW token_streams AS
SELECT provider, day,
       first(stream ORDER BY priority DESC, stream) AS stream
FROM (
    SELECT DISTINCT provider, hour // 86400 AS day,
           CASE WHEN grain = 'request' THEN '*request' ELSE source END AS stream,
           CASE WHEN grain = 'request' THEN 1
                WHEN source IN ('openai_usage', 'anthropic_usage') THEN 3
                ELSE 2 END AS priority
    FROM agg_hourly
)
GROUP BY provider, day;

CREATE VIEW counted_hourly AS
SELECT a.*
FROM agg_hourly a
JOIN token_streams s
  ON s.provider = a.provider AND s.day = a.hour // 86400
 AND s.stream = CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END;
"""

V2 = """
-- The per-user rollup counted the same way as counted_hourly (one stream per provider and day).
CREATE VIEW counted_user_daily AS
SELECT a.*
FROM agg_user_daily a
JOIN token_streams s
  ON s.provider = a.provider AND s.day = a.day // 86400
 AND s.stream = CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END;
"""

# Latency histograms: the bucket of a latency is floor(log base 1.2 of max(ms, 1)), so a
# bucket spans 20 %. Kept per hour, provider and model (V3), and since V27 per hour and key
# and per day and user too (at 10M requests those hold a quarter and an eighth as many rows as
# requests; at 100M a smaller share still).
# Shipped with V3: never change it (stored buckets would no longer mean the same).
LATENCY_RATIO = 1.2
LATENCY_BUCKET_SQL = "CAST(floor(ln(greatest(latency_ms, 1)) / ln(1.2)) AS SMALLINT)"

V3 = f"""
-- Latency histograms of request events, for percentiles without scanning raw rows.
CREATE TABLE agg_latency_hourly (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    hour BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    lb SMALLINT NOT NULL,             -- latency bucket (see LATENCY_BUCKET_SQL)
    n BIGINT NOT NULL                 -- requests with a latency in that bucket
);
INSERT INTO agg_latency_hourly
SELECT import_id, source, (epoch_ms(ts) // 3600000) * 3600, provider, model,
       {LATENCY_BUCKET_SQL}, count(*)
FROM request_events WHERE latency_ms IS NOT NULL GROUP BY ALL;
"""

# The counted stream per provider and UTC day (a view in V1, the table ``token_streams`` from
# V4 on), and whether that stream states errors. Shared with lib.store.rollups.refresh_streams,
# which recomputes the table after every change to agg_hourly.
# As shipped with V4 (four columns); later versions use STREAMS_SELECT.
_STREAMS_SELECT_V4 = """
WITH s AS (
    SELECT provider, day, first(stream ORDER BY priority DESC, stream) AS stream
    FROM (
        SELECT DISTINCT provider, hour // 86400 AS day,
               CASE WHEN grain = 'request' THEN '*request' ELSE source END AS stream,
               CASE WHEN grain = 'request' THEN 1
                    WHEN source IN ('openai_usage', 'anthropic_usage') THEN 3
                    ELSE 2 END AS priority
        FROM agg_hourly)
    GROUP BY provider, day)
SELECT s.provider, s.day, s.stream, bool_or(a.errors IS NOT NULL) AS stated_errors
FROM s JOIN agg_hourly a
  ON a.provider = s.provider AND a.hour // 86400 = s.day
 AND s.stream = CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END
GROUP BY ALL
"""

_STREAMS_SELECT_V9 = _STREAMS_SELECT_V4.replace(
    "AS stated_errors\n",
    "AS stated_errors,\n       bool_or(a.requests IS NOT NULL) AS stated_requests\n",
)
assert _STREAMS_SELECT_V9 != _STREAMS_SELECT_V4
# From V12: reports of a subset of the traffic lose to everything else for the same provider and
# day: Claude Code's report (Claude Code only) below the request logs, Langfuse's metrics (the
# traced apps only) level with them (the logs win the tie); priority-2 ties go by source name.
STREAMS_SELECT = _STREAMS_SELECT_V9.replace(
    "WHEN grain = 'request' THEN 1\n",
    "WHEN grain = 'request' THEN 1\n"
    "                    WHEN source = 'claude_code' THEN 0\n"
    "                    WHEN source = 'langfuse' THEN 1\n",
)
assert STREAMS_SELECT != _STREAMS_SELECT_V9

V4 = f"""
-- token_streams becomes a table kept up to date at import time: every dashboard query joins
-- it, and recomputing the view over all rollup rows cost each query 20-50 ms at 10M requests.
DROP VIEW counted_user_daily;
DROP VIEW counted_hourly;
DROP VIEW token_streams;
CREATE TABLE token_streams (
    provider VARCHAR NOT NULL,
    day BIGINT NOT NULL,              -- epoch day (epoch seconds // 86400)
    stream VARCHAR NOT NULL,          -- '*request' (all request logs) or a usage source
    stated_errors BOOLEAN NOT NULL    -- the counted stream states error counts that day
);                                    -- (V9 adds stated_requests: it states request counts)
INSERT INTO token_streams {_STREAMS_SELECT_V4};
CREATE VIEW counted_hourly AS
SELECT a.*
FROM agg_hourly a
JOIN token_streams s
  ON s.provider = a.provider AND s.day = a.hour // 86400
 AND s.stream = CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END;
CREATE VIEW counted_user_daily AS
SELECT a.*
FROM agg_user_daily a
JOIN token_streams s
  ON s.provider = a.provider AND s.day = a.day // 86400
 AND s.stream = CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END;
"""

V5 = """
-- Playground: saved configurations and the history of runs.
CREATE SEQUENCE preset_id_seq START 1;
CREATE TABLE presets (
    preset_id BIGINT NOT NULL,
    name VARCHAR NOT NULL,            -- unique per owner
    owner VARCHAR NOT NULL,           -- username
    shared BOOLEAN NOT NULL,          -- visible to the whole team (else to its owner only)
    config VARCHAR NOT NULL,          -- JSON: provider, model, system, params, messages (optional)
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE SEQUENCE run_id_seq START 1;
CREATE TABLE playground_runs (
    run_id BIGINT NOT NULL,
    ran_at TIMESTAMPTZ NOT NULL,
    username VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    params VARCHAR NOT NULL,          -- JSON of the parameters sent
    status VARCHAR NOT NULL,          -- ok | error | stopped
    prompt_tokens BIGINT,
    cached_tokens BIGINT,
    completion_tokens BIGINT,
    reasoning_tokens BIGINT,
    ttft_ms INTEGER,
    total_ms INTEGER,
    cost_usd DECIMAL(18, 10),         -- NULL when the model is unpriced or usage is unknown
    http_status SMALLINT,
    error_title VARCHAR,
    prompt_text VARCHAR,              -- only when the user opted in
    answer_text VARCHAR               -- only when the user opted in
);
"""

V6 = """
-- Sign-in sessions kept on the server (lib/auth/sessions.py). Only a hash of the token the
-- browser holds is stored; a session opens the app while ended_at is NULL, it was used
-- within the idle limit, expires_at is ahead and the user's password and role are unchanged.
CREATE TABLE auth_sessions (
    token_hash VARCHAR NOT NULL,      -- sha256 hex of the session token
    username VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    end_reason VARCHAR,               -- logout | everywhere | idle | expired | admin
    client_ip VARCHAR,
    user_agent VARCHAR,
    credential_tag VARCHAR            -- fingerprint of the user's password hash and role at sign-in
);
"""

V7 = """
-- The request events an import found already stored (same source and event key) and dropped as
-- duplicates: its claims on rows of other imports. Undoing the import that holds such a row
-- hands it to the earliest claimer still active instead of losing it.
CREATE TABLE event_claims (
    import_id BIGINT NOT NULL,        -- the import that also contained the event
    source VARCHAR NOT NULL,
    event_key UBIGINT NOT NULL
);
"""

V8 = """
-- Money at scale 20 (lib.importers.rules.MONEY_SCALE): real Costs API amounts are JSON floats
-- with up to 20 decimals (0.00032195744715549047) and Anthropic cents may carry more than 10;
-- scale 12 could not hold them. Rollups widen with the facts so their sums stay the same.
ALTER TABLE usage_buckets ALTER cost_usd TYPE DECIMAL(38, 20);
ALTER TABLE cost_items ALTER amount TYPE DECIMAL(38, 20);
ALTER TABLE agg_hourly ALTER cost_usd TYPE DECIMAL(38, 20);
ALTER TABLE agg_user_daily ALTER cost_usd TYPE DECIMAL(38, 20);
"""

V9 = f"""
-- Requests are counted from the request logs where the counted stream states none (Anthropic's
-- usage report has no request count): the stream table says whether the stream states them.
ALTER TABLE token_streams ADD COLUMN stated_requests BOOLEAN DEFAULT false;
DELETE FROM token_streams;
INSERT INTO token_streams {_STREAMS_SELECT_V9};
"""

# One model name everywhere: the family (``claude-sonnet-4-5``, ``gpt-4o``), with the name the
# source gave (``claude-sonnet-4-5-20250929``, ``openai/gpt-4o-2024-08-06``) kept as the
# ``snapshot`` dimension. The family drops provider paths (``openai/``), Bedrock vendor ids
# (``us.anthropic.``) and versions (``-v1:0``), and date suffixes (``-2024-08-06``,
# ``-20250929``, ``@20240620``, ``-0613``), in lower case; ``-latest``/``-preview`` stay (they
# name other models). Shipped with V10: change it only with a new migration.
MODEL_FAMILY_MACRO = r"""
CREATE OR REPLACE MACRO model_family(m) AS CASE WHEN m IS NULL THEN NULL ELSE coalesce(nullif(lower(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(trim(m),
        '^([A-Za-z0-9_.:-]+/)+', ''),
        '^((us|eu|apac|global)[.])?(anthropic|amazon|meta|cohere|mistral|ai21|deepseek|openai)[.]', ''),
        '-v[0-9]+:[0-9]+$', ''),
        '@[0-9]{8}$', ''),
        '-[0-9]{4}-[0-9]{2}-[0-9]{2}$', ''),
        '-20[0-9]{6}$', ''),
        '-(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$', '')), ''), lower(trim(m))) END;
"""

V10 = f"""
{MODEL_FAMILY_MACRO}
-- The rollups keep the family in ``model`` and the source's name in ``snapshot``.
ALTER TABLE agg_hourly ADD COLUMN snapshot VARCHAR;
ALTER TABLE agg_user_daily ADD COLUMN snapshot VARCHAR;
ALTER TABLE agg_error_hourly ADD COLUMN snapshot VARCHAR;
ALTER TABLE agg_latency_hourly ADD COLUMN snapshot VARCHAR;
UPDATE agg_hourly SET snapshot = model, model = model_family(model);
UPDATE agg_user_daily SET snapshot = model, model = model_family(model);
UPDATE agg_error_hourly SET snapshot = model, model = model_family(model);
UPDATE agg_latency_hourly SET snapshot = model, model = model_family(model);
-- Facts keep the source's name; these views name models the way the rollups do.
CREATE VIEW requests_named AS
SELECT * REPLACE (model_family(model) AS model), model AS snapshot FROM request_events;
CREATE VIEW costs_named AS
SELECT * REPLACE (model_family(model) AS model), model AS snapshot FROM live_costs;
"""

_USAGE_MEASURES_V11 = """count(*) AS rows, sum(requests) AS requests, sum(errors) AS errors,
       sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
       sum(cache_write_tokens) AS cache_write_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
       sum(output_tokens) AS output_tokens, sum(reasoning_tokens) AS reasoning_tokens,
       sum(cost_usd) AS cost_usd, NULL AS latency_sum_ms, NULL AS latency_n"""

# The seconds a usage bucket covers (request events: one hour, the column's default).
SPAN_SQL = "CAST(date_diff('second', bucket_start, bucket_end) AS INTEGER)"

V11 = f"""
-- Each rollup row says how long its source's bucket is: a daily usage bucket is counted in the
-- hour it starts, and an hourly chart draws it over the whole day instead of as a midnight spike.
ALTER TABLE agg_hourly ADD COLUMN span_s INTEGER DEFAULT 3600;
ALTER TABLE agg_user_daily ADD COLUMN span_s INTEGER DEFAULT 3600;
DELETE FROM agg_hourly WHERE grain = 'usage';
DELETE FROM agg_user_daily WHERE grain = 'usage';
INSERT INTO agg_hourly BY NAME
SELECT import_id, 'usage' AS grain, source, (epoch_ms(bucket_start) // 3600000) * 3600 AS hour,
       provider, model_family(model) AS model, model AS snapshot, project, api_key, batch,
       {SPAN_SQL} AS span_s, {_USAGE_MEASURES_V11}
FROM usage_buckets WHERE replaced_by IS NULL GROUP BY ALL;
INSERT INTO agg_user_daily BY NAME
SELECT import_id, 'usage' AS grain, source, (epoch_ms(bucket_start) // 86400000) * 86400 AS day,
       provider, model_family(model) AS model, model AS snapshot, project, user_id, batch,
       {SPAN_SQL} AS span_s, {_USAGE_MEASURES_V11}
FROM usage_buckets WHERE replaced_by IS NULL GROUP BY ALL;
"""

V12 = f"""
-- How many fact rows of each rollup row state a cost: spend counts a source's stated cost only
-- where every row states one (else the estimate), instead of taking a partial sum for all.
-- Rows rolled up before V12 are taken as wholly stated when they state any cost.
ALTER TABLE agg_hourly ADD COLUMN cost_n BIGINT;
ALTER TABLE agg_user_daily ADD COLUMN cost_n BIGINT;
UPDATE agg_hourly SET cost_n = CASE WHEN cost_usd IS NULL THEN 0 ELSE rows END;
UPDATE agg_user_daily SET cost_n = CASE WHEN cost_usd IS NULL THEN 0 ELSE rows END;
-- Subset reports (Claude Code, Langfuse) no longer hide the other streams of their days.
DELETE FROM token_streams;
INSERT INTO token_streams {STREAMS_SELECT};
"""

# File names by which imports told their origin before V13 (the suffix is no longer written).
_PULL_SUFFIX_V12 = " (API pull).json"

V13 = f"""
-- Where each import came from, as a column (lib.ingest.result.ORIGINS): file (the command
-- line), upload (the Data page), pull (a provider's admin API), playground (one run),
-- gateway (its journal), demo. Imports made before were told apart by their names: a pull's
-- ended with '{_PULL_SUFFIX_V12}' (dropped from the name now), the playground's one entry was
-- 'Playground runs' of format 'playground'; a file and an upload cannot be told apart: 'file'.
ALTER TABLE imports ADD COLUMN origin VARCHAR NOT NULL DEFAULT 'file';
UPDATE imports SET origin = CASE
    WHEN is_demo THEN 'demo'
    WHEN ends_with(file_name, '{_PULL_SUFFIX_V12}') THEN 'pull'
    WHEN source = 'playground' AND format = 'playground' THEN 'playground'
    ELSE 'file' END;
UPDATE imports SET file_name = left(file_name, length(file_name) - {len(_PULL_SUFFIX_V12)})
WHERE origin = 'pull' AND ends_with(file_name, '{_PULL_SUFFIX_V12}');
-- Playground runs were keyed hash('playground', run id); they are imports now, keyed like every
-- request event that has a request id.
UPDATE request_events SET event_key = hash(request_id)
WHERE source = 'playground' AND request_id IS NOT NULL;
"""

# Error fingerprints: messages that differ only by ids, numbers, URLs, e-mail addresses or
# quoted values are the same error. The message is lower-cased; quoted values (a quote not
# preceded by a letter, digit or _, no whitespace inside: 'temperature', `gpt-9`), URLs, e-mail
# addresses, UUIDs, prefixed ids (req_…, chatcmpl-…, msg_…, org-…, sk-…, gen-…), hex runs of 16+
# and numbers (with a unit of ms or s: 1.4s, 22ms) each become '#' in one pass (one regular
# expression: about twice as fast as a pass per kind); whitespace runs become one space. The
# fingerprint is hash(provider, http_status, error_code, that text) (typed, so a BIGINT status
# being inserted and the stored SMALLINT hash alike), NULL for successes.
# Shipped with V14: change it only with a new migration (stored fingerprints would no longer
# group with new ones).
ERROR_TEXT_PATTERN = "|".join((
    r"""\B('[^'\s]*'|"[^"\s]*"|`[^`\s]*`)""",
    r"""https?://[^\s'"`<>]+""",
    r"[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    r"\b(req|chatcmpl|cmpl|msg|resp|run|call|toolu|file|batch|org|proj|asst|thread|gen|sk)[-_][a-z0-9_*-]{4,}",
    r"\b(0x)?[0-9a-f]{16,}\b",
    r"[0-9]+([.,][0-9]+)*((ms|s)\b)?",
))  # fmt: skip
_PATTERN_SQL = "'" + ERROR_TEXT_PATTERN.replace("'", "''") + "'"
ERROR_FINGERPRINT_MACROS = rf"""
CREATE OR REPLACE MACRO error_text_norm(m) AS
    trim(regexp_replace(regexp_replace(lower(m), {_PATTERN_SQL}, '#', 'g'), '\s{{2,}}|[\t\n\r\f\v]', ' ', 'g'));
CREATE OR REPLACE MACRO error_fingerprint_of(status, provider, http_status, error_code, message) AS
    CASE WHEN status = 'error' THEN hash(CAST(provider AS VARCHAR), CAST(http_status AS INTEGER),
                                   CAST(error_code AS VARCHAR), error_text_norm(message)) END;
"""

V14 = f"""
{ERROR_FINGERPRINT_MACROS}
-- The fingerprint of each error, made at import time (lib.ingest.requests) so the Errors page
-- groups similar messages without reading their text. Re-runnable (IF NOT EXISTS).
ALTER TABLE request_events ADD COLUMN IF NOT EXISTS error_fingerprint UBIGINT;
UPDATE request_events
SET error_fingerprint = error_fingerprint_of(status, provider, http_status, error_code, error_message)
WHERE status = 'error';  -- a success has none: its rows are left as they are
"""

V15 = """
-- Alerts (lib.alerts): rules, their incidents and notifications; prepaid credit grants and
-- rate limits per model.
CREATE SEQUENCE alert_rule_id_seq START 1;
CREATE TABLE alert_rules (
    rule_id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- lib.alerts.model.KINDS
    subject_kind VARCHAR NOT NULL,    -- organisation | provider | project | key | model | user
    subject VARCHAR,                  -- one value; NULL: every value of subject_kind, each apart
    time_window VARCHAR NOT NULL,     -- hour | day | week | month (lib.alerts.model.WINDOWS)
    basis VARCHAR NOT NULL,           -- budgets: actual | forecast (other kinds: actual)
    threshold DECIMAL(38, 12) NOT NULL,  -- in the kind's unit (USD, z, %, ms, hours, days, count)
    levels INTEGER[] NOT NULL,        -- % of the threshold that open and escalate ([50, 80, 100])
    min_volume BIGINT NOT NULL,       -- requests in the window below which the rule stays quiet
    cooldown_s BIGINT NOT NULL,       -- an unchanged open incident is notified again after this
    tz VARCHAR NOT NULL,              -- where calendar windows (budgets) are cut
    enabled BOOLEAN NOT NULL,
    channels VARCHAR[] NOT NULL,      -- channel names for lib.notify; empty: in the app only
    created_by VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE SEQUENCE alert_incident_id_seq START 1;
CREATE TABLE alert_incidents (
    incident_id BIGINT PRIMARY KEY,
    rule_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    subject_kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,         -- '' for the organisation
    open_subject VARCHAR,             -- = subject until resolved, then NULL: with the UNIQUE
                                      -- below, one unresolved incident per rule and subject
    state VARCHAR NOT NULL,           -- open | acknowledged | snoozed | resolved
    level INTEGER NOT NULL,           -- highest level reached (% of the threshold)
    value DECIMAL(38, 12),            -- the last measured value (the kind's unit)
    threshold DECIMAL(38, 12),
    detail VARCHAR,                   -- JSON: the kind's figures (usual level, requests, keys...)
    link VARCHAR,                     -- the filtered view that shows the cause (page?query)
    opened_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by VARCHAR,              -- NULL when resolved automatically
    snoozed_until TIMESTAMPTZ,
    acknowledged_by VARCHAR,
    acknowledged_at TIMESTAMPTZ,
    notified_level INTEGER,           -- the level last notified (NULL: never)
    notified_at TIMESTAMPTZ,
    UNIQUE (rule_id, open_subject)
);
CREATE SEQUENCE alert_delivery_id_seq START 1;
CREATE TABLE alert_deliveries (
    delivery_id BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    channel VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,          -- opened | escalated | reminder
    level INTEGER NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    ok BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL,
    detail VARCHAR                    -- what the channel said (never a secret)
);
CREATE SEQUENCE credit_grant_id_seq START 1;
CREATE TABLE credit_grants (
    grant_id BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    amount_usd DECIMAL(38, 12) NOT NULL,
    granted_on DATE NOT NULL,         -- spend from this UTC day on draws on it
    expires_on DATE,                  -- last UTC day it can be used; NULL: never expires
    note VARCHAR,
    created_by VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE rate_limits (
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    rpm BIGINT,                       -- requests per minute; NULL: unknown
    tpm BIGINT,                       -- tokens per minute; NULL: unknown
    source VARCHAR NOT NULL,          -- entered | learned (from rate-limit response headers)
    seen_at TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, model, source)
);
"""

V16 = """
-- Where alerts are sent (lib.alerts.channels): each channel a name rules refer to and the
-- settings lib.notify.channel_from_config reads. Webhook URLs and signing secrets are kept
-- here and shown masked; SMTP settings stay in the app's secrets.
CREATE SEQUENCE alert_channel_id_seq START 1;
CREATE TABLE alert_channels (
    channel_id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,     -- what alert_rules.channels name
    kind VARCHAR NOT NULL,            -- in_app | slack | teams | webhook | email
    config VARCHAR NOT NULL,          -- JSON for lib.notify.channel_from_config
    enabled BOOLEAN NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
"""

V17 = """
-- Alert channels are kept in the settings table (lib.worker.channels), beside the app's other
-- settings: the table of V16 is not used.
DROP TABLE IF EXISTS alert_channels;
DROP SEQUENCE IF EXISTS alert_channel_id_seq;
"""

V18 = """
-- The wait an error's answer asked for (Retry-After, in milliseconds; NULL when it stated none):
-- playground runs and the gateway see it, and logs that carry it keep it.
ALTER TABLE request_events ADD COLUMN IF NOT EXISTS retry_after_ms INTEGER;
"""

V19 = """
-- Tokenboard's own API keys (lib.keys.store): only the SHA-256 of each secret is kept, never
-- the secret; restrictions, budgets and limits as JSON (lib.keys.restrictions.Restrictions).
-- Re-runnable (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS tokenboard_keys (
    key_id VARCHAR PRIMARY KEY,       -- what request events name in api_key ('tbk_' + hex)
    name VARCHAR NOT NULL,
    owner VARCHAR,
    project VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    created_by VARCHAR,
    expires_at TIMESTAMPTZ,           -- NULL: never expires
    status VARCHAR NOT NULL,          -- active | revoked
    revoked_at TIMESTAMPTZ,
    revoked_by VARCHAR,
    hash VARCHAR NOT NULL,            -- hex SHA-256 of the secret
    hint VARCHAR NOT NULL,            -- 'tb-…' and the secret's last 4 characters
    old_hash VARCHAR,                 -- the secret before the last rotation, accepted until
    old_hash_until TIMESTAMPTZ,       -- this time (the rotation's grace period)
    rotated_at TIMESTAMPTZ,
    restrictions VARCHAR NOT NULL,    -- JSON: IPs, origins, models, endpoints, budgets, limits
    updated_at TIMESTAMPTZ NOT NULL
);
-- The audit log of security actions: rows are only ever inserted (no code updates or
-- deletes them).
CREATE SEQUENCE IF NOT EXISTS key_audit_id_seq START 1;
CREATE TABLE IF NOT EXISTS key_audit (
    id BIGINT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,          -- when (UTC)
    actor VARCHAR,                    -- the user; 'gateway' for refused requests summarised
    action VARCHAR NOT NULL,          -- lib.store.audit.AUDIT_ACTIONS
    subject VARCHAR,                  -- the key id
    detail VARCHAR,                   -- JSON: what changed (never a secret)
    from_ip VARCHAR                   -- where the actor was, when known
);
"""

V20 = """
-- Time to the first token of a streamed answer (milliseconds; NULL when not streamed or not
-- known), written by the gateway's journal. Re-runnable (IF NOT EXISTS).
ALTER TABLE request_events ADD COLUMN IF NOT EXISTS ttft_ms INTEGER;
"""

V21 = """
-- Users and sign-in live in the database (they lived in a YAML file). Passwords are bcrypt
-- hashes; invitations and reset links keep only the SHA-256 of their one-time token.
-- Re-runnable (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY,     -- lower case, 2-32 of a-z 0-9 . _ -
    name VARCHAR NOT NULL,
    email VARCHAR NOT NULL DEFAULT '',
    role VARCHAR NOT NULL,            -- admin | analyst | viewer
    language VARCHAR,                 -- en | fr; NULL: none chosen
    password_hash VARCHAR NOT NULL,   -- bcrypt
    status VARCHAR NOT NULL DEFAULT 'active',  -- active | disabled
    must_change_password BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL,
    created_by VARCHAR,               -- NULL: set up, migrated or seeded
    updated_at TIMESTAMPTZ NOT NULL,
    last_sign_in TIMESTAMPTZ,
    unlocked_at TIMESTAMPTZ           -- an admin cleared the failed sign-ins before this time
);

CREATE TABLE IF NOT EXISTS invitations (
    token_hash VARCHAR PRIMARY KEY,   -- sha256 hex of the one-time token
    kind VARCHAR NOT NULL,            -- invite | reset (a password reset link)
    username VARCHAR NOT NULL,
    email VARCHAR NOT NULL DEFAULT '',
    role VARCHAR NOT NULL,
    created_by VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

-- Where users were copied from, once per database: 'file' (the old YAML users file) and
-- 'secrets' (the app's [auth.credentials]); neither is read again afterwards.
CREATE TABLE IF NOT EXISTS user_sources (
    source VARCHAR PRIMARY KEY,
    location VARCHAR,
    users INTEGER NOT NULL,
    migrated_at TIMESTAMPTZ NOT NULL
);
"""

V22 = """
-- Support tickets (lib.tickets): a ticket's number (#n) is its id. Attachments keep their
-- bytes here (a Streamlit Community Cloud disk does not keep files). Re-runnable.
CREATE SEQUENCE IF NOT EXISTS ticket_id_seq START 1;
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id BIGINT PRIMARY KEY,     -- the number shown as #n
    subject VARCHAR NOT NULL,
    body VARCHAR NOT NULL,            -- the description, Markdown
    category VARCHAR NOT NULL,        -- data | billing | access | bug | question
    severity VARCHAR NOT NULL,        -- low | normal | high | urgent
    status VARCHAR NOT NULL,          -- open | in_progress | waiting | resolved | closed
    reporter VARCHAR NOT NULL,        -- username
    assignee VARCHAR,                 -- an admin's username; NULL: nobody
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,    -- the first reply by someone other than the reporter
    merged_into BIGINT,               -- the ticket this duplicate was merged into
    page VARCHAR,                     -- context: the page the user came from
    view_link VARCHAR,                -- a relative link to that view, with its filters
    app_version VARCHAR,
    data_version VARCHAR              -- lib.ingest.ledger.data_version when filed
);
CREATE SEQUENCE IF NOT EXISTS ticket_comment_id_seq START 1;
CREATE TABLE IF NOT EXISTS ticket_comments (
    comment_id BIGINT PRIMARY KEY,
    ticket_id BIGINT NOT NULL,
    author VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    body VARCHAR NOT NULL,            -- Markdown
    internal BOOLEAN NOT NULL         -- an admins' note, never shown to the reporter
);
CREATE SEQUENCE IF NOT EXISTS ticket_attachment_id_seq START 1;
CREATE TABLE IF NOT EXISTS ticket_attachments (
    attachment_id BIGINT PRIMARY KEY,
    ticket_id BIGINT NOT NULL,
    comment_id BIGINT,                -- NULL: filed with the ticket
    filename VARCHAR NOT NULL,        -- made safe (lib.tickets.files.safe_name)
    media_type VARCHAR NOT NULL,      -- checked against the content's first bytes
    size BIGINT NOT NULL,             -- bytes
    uploaded_by VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    data BLOB NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS ticket_history_id_seq START 1;
CREATE TABLE IF NOT EXISTS ticket_history (
    id BIGINT PRIMARY KEY,
    ticket_id BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    actor VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- status | assign | merge | merged_from
    old VARCHAR,
    new VARCHAR
);
"""

V25 = """
-- What retention (lib.ingest.retention) removed of each import: request rows dated before a UTC
-- day are deleted while the rollups keep their totals. One row per import and cut with
-- claimer_id NULL (rows removed), and one per import that had also contained some of them
-- (claimer_id: it skipped them as duplicates; rows: how many). Undoing the import that held
-- them is refused while such a claimer is live: its share of those rows cannot be rebuilt.
CREATE TABLE IF NOT EXISTS retention_drops (
    import_id BIGINT NOT NULL,        -- the import whose request rows were removed
    claimer_id BIGINT,                -- NULL, or an import that also contained some of them
    source VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    before_day DATE NOT NULL,         -- rows dated before this UTC day were removed
    applied_at TIMESTAMPTZ NOT NULL
);
"""

V26 = """
-- The error rows of request_events, kept apart (lib.store.rollups maintains it with the
-- rollups: the same import_id, added and dropped with them) so the Errors page reads a few
-- per cent of the rows of its period instead of scanning every request of it.
CREATE TABLE IF NOT EXISTS error_events (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    event_key UBIGINT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    request_id VARCHAR,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    user_id VARCHAR,
    http_status SMALLINT,
    error_code VARCHAR,
    error_type VARCHAR,
    error_message VARCHAR,
    error_fingerprint UBIGINT,
    retry_after_ms INTEGER
);
INSERT INTO error_events BY NAME
SELECT import_id, source, event_key, ts, request_id, provider, model, project, api_key, user_id,
       http_status, error_code, error_type, error_message, error_fingerprint, retry_after_ms
FROM request_events WHERE status = 'error' ORDER BY ts;
"""

V27 = f"""
-- Latency histograms by key (per hour) and by user (per UTC day), as the usage rollups keep
-- them (agg_hourly, agg_user_daily), so percentiles by project, key or user read histogram
-- rows, not every request of the period. Buckets as agg_latency_hourly's (LATENCY_BUCKET_SQL).
CREATE TABLE IF NOT EXISTS agg_latency_key_hourly (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    hour BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,                    -- the model family
    snapshot VARCHAR,                 -- the name the source gave
    project VARCHAR,
    api_key VARCHAR,
    lb SMALLINT NOT NULL,
    n BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS agg_latency_user_daily (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    day BIGINT NOT NULL,              -- epoch second of the UTC day's start
    provider VARCHAR NOT NULL,
    model VARCHAR,
    snapshot VARCHAR,
    project VARCHAR,
    user_id VARCHAR,
    lb SMALLINT NOT NULL,
    n BIGINT NOT NULL
);
INSERT INTO agg_latency_key_hourly
SELECT import_id, source, hour, provider, model_family(snapshot), snapshot, project, api_key, lb, n
FROM (SELECT import_id, source, (epoch_ms(ts) // 3600000) * 3600 AS hour, provider,
             model AS snapshot, project, api_key, {LATENCY_BUCKET_SQL} AS lb, count(*) AS n
      FROM request_events WHERE latency_ms IS NOT NULL GROUP BY ALL);
INSERT INTO agg_latency_user_daily
SELECT import_id, source, day, provider, model_family(snapshot), snapshot, project, user_id, lb, n
FROM (SELECT import_id, source, (epoch_ms(ts) // 86400000) * 86400 AS day, provider,
             model AS snapshot, project, user_id, {LATENCY_BUCKET_SQL} AS lb, count(*) AS n
      FROM request_events WHERE latency_ms IS NOT NULL GROUP BY ALL);
"""

V28 = """
-- The error groups per hour (lib.store.rollups maintains it with the rollups: the same
-- import_id): per hour, provider, model, project, key, status, code, type, fingerprint and
-- Retry-After, the errors with their first and last time and the newest message. The Errors
-- page's groups, codes and rates read it instead of the error rows: a few rows per group and
-- hour at any traffic. The Retry-After is a dimension (a handful of values) so the median wait
-- stays exact.
CREATE TABLE IF NOT EXISTS agg_error_group_hourly (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    hour BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,                    -- the model family
    snapshot VARCHAR,                 -- the name the source gave
    project VARCHAR,
    api_key VARCHAR,
    http_status SMALLINT,
    error_code VARCHAR,
    error_type VARCHAR,
    error_fingerprint UBIGINT,
    retry_after_ms INTEGER,
    errors BIGINT NOT NULL,
    first_ts TIMESTAMPTZ NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL,
    last_message VARCHAR              -- the message of the newest error (last_ts)
);
INSERT INTO agg_error_group_hourly BY NAME
SELECT g.*, f.model FROM (
    SELECT import_id, source, (epoch_ms(ts) // 3600000) * 3600 AS hour, provider, model AS snapshot,
           project, api_key, http_status, error_code, error_type, error_fingerprint, retry_after_ms,
           count(*) AS errors, min(ts) AS first_ts, max(ts) AS last_ts,
           arg_max(error_message, ts) AS last_message
    FROM error_events GROUP BY ALL) g
LEFT JOIN (SELECT DISTINCT model AS snapshot, model_family(model) AS model FROM error_events) f
    ON f.snapshot IS NOT DISTINCT FROM g.snapshot;
"""

V29 = """
-- The latency histogram by key per UTC day, summed from the one per hour: a period cut at
-- 00:00 UTC in days or months reads a day's buckets once, not 24 times (at 100M requests the
-- hourly one holds twice the rows per day it holds at 10M: more buckets filled per hour).
CREATE TABLE IF NOT EXISTS agg_latency_key_daily (
    import_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    day BIGINT NOT NULL,              -- epoch second of the UTC day's start
    provider VARCHAR NOT NULL,
    model VARCHAR,
    snapshot VARCHAR,
    project VARCHAR,
    api_key VARCHAR,
    lb SMALLINT NOT NULL,
    n BIGINT NOT NULL
);
INSERT INTO agg_latency_key_daily
SELECT import_id, source, (hour // 86400) * 86400 AS day, provider, model, snapshot, project,
       api_key, lb, sum(n) AS n
FROM agg_latency_key_hourly GROUP BY ALL;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema: imports, three grains, rollups, prices, settings", V1),
    (2, "counted per-user view", V2),
    (3, "latency histograms per hour, provider and model", V3),
    (4, "token_streams kept as a table", V4),
    (5, "playground presets and runs", V5),
    (6, "server-side sign-in sessions", V6),
    (7, "claims of imports on request events another import holds", V7),
    (8, "money of usage buckets, cost items and rollups at scale 20", V8),
    (9, "requests counted from the logs where the counted stream states none", V9),
    (10, "model families, with the source's name as the snapshot", V10),
    (11, "the span of each rollup row's source bucket", V11),
    (12, "rows stating a cost per rollup row; subset reports rank below the logs", V12),
    (13, "the origin of each import as a column", V13),
    (14, "error fingerprints of request events", V14),
    (15, "alerts: rules, incidents, deliveries; credit grants; rate limits", V15),
    (16, "alert channels", V16),
    (17, "alert channels live in the settings table: V16's table dropped", V17),
    (18, "the Retry-After of request events", V18),
    (19, "Tokenboard keys (hashed) and the audit log of security actions", V19),
    (20, "the time to first token of request events", V20),
    (21, "users, invitations and reset links in the database", V21),
    (22, "support tickets: comments, attachments, status history", V22),
    (25, "what retention removed of each import", V25),
    (26, "the error rows of request events, kept apart for the Errors page", V26),
    (27, "latency histograms by key per hour and by user per day", V27),
    (28, "error groups per hour, for the Errors page", V28),
    (29, "the latency histogram by key per UTC day", V29),
]
