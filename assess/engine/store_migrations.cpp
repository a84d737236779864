// The results store's schema history. Append only: a released migration never changes (its
// name is checked against every database it was applied to); a schema change is a new entry
// at the end, with the next version. Timestamps are Unix milliseconds (UTC); ids are INTEGER
// PRIMARY KEYs, so later tables (the web application's invitations, lab runs) reference
// candidates(id) and sessions(id).
#include "engine/store_sqlite.hpp"

namespace assess::sqlite {

namespace {

constexpr std::string_view kEngineSchema = R"sql(
CREATE TABLE candidates (
  id         INTEGER PRIMARY KEY,
  handle     TEXT NOT NULL UNIQUE CHECK (length(handle) > 0),
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

-- A table, not a CHECK: a later migration adds a state (e.g. 'invited') with one INSERT.
CREATE TABLE session_states (name TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;
INSERT INTO session_states (name) VALUES ('active'), ('finished'), ('abandoned');

CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  candidate_id INTEGER NOT NULL REFERENCES candidates (id),
  config       TEXT NOT NULL CHECK (json_valid(config) AND json_type(config) = 'object'),
  state        TEXT NOT NULL REFERENCES session_states (name),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER CHECK (finished_at IS NULL OR state <> 'active')
) STRICT;
CREATE INDEX sessions_by_candidate ON sessions (candidate_id);

-- Every item shown, answered or not: the unanswered one is what a resumed session shows again,
-- with the time left since presented_at.
CREATE TABLE presentations (
  session_id   INTEGER NOT NULL REFERENCES sessions (id),
  seq          INTEGER NOT NULL CHECK (seq >= 1),
  item         TEXT NOT NULL CHECK (length(item) > 0),
  item_version INTEGER NOT NULL CHECK (item_version >= 1),
  dimension    TEXT NOT NULL CHECK (length(dimension) > 0),
  time_limit_s INTEGER NOT NULL CHECK (time_limit_s >= 0),
  presented_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
) STRICT;

-- The primary key is UNIQUE(session, seq): an answer replayed after a crash cannot be counted
-- twice. item, item_version and dimension are copied from the presentation (calibration reads
-- this table alone).
CREATE TABLE responses (
  session_id   INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  item         TEXT NOT NULL,
  item_version INTEGER NOT NULL,
  dimension    TEXT NOT NULL,
  answer       TEXT NOT NULL,
  correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
  score        REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
  results      TEXT NOT NULL CHECK (json_valid(results)),
  started_at   INTEGER NOT NULL,
  answered_at  INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
  PRIMARY KEY (session_id, seq),
  FOREIGN KEY (session_id, seq) REFERENCES presentations (session_id, seq)
) STRICT;
CREATE INDEX responses_by_item ON responses (item, item_version);

CREATE TABLE estimates (
  session_id INTEGER NOT NULL,
  after_seq  INTEGER NOT NULL,
  dimension  TEXT NOT NULL CHECK (length(dimension) > 0),
  theta      REAL NOT NULL,
  se         REAL NOT NULL CHECK (se >= 0),
  PRIMARY KEY (session_id, after_seq, dimension),
  FOREIGN KEY (session_id, after_seq) REFERENCES responses (session_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE rule_firings (
  session_id INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  rule       TEXT NOT NULL CHECK (length(rule) > 0),
  item       TEXT NOT NULL CHECK (length(item) > 0),
  PRIMARY KEY (session_id, seq, rule),
  FOREIGN KEY (session_id, seq) REFERENCES responses (session_id, seq)
) STRICT, WITHOUT ROWID;

-- A history: the current parameters of an (item, version) are its row with the largest id.
CREATE TABLE item_params (
  id           INTEGER PRIMARY KEY,
  item         TEXT NOT NULL CHECK (length(item) > 0),
  item_version INTEGER NOT NULL CHECK (item_version >= 1),
  a            REAL NOT NULL CHECK (a > 0),
  b            REAL NOT NULL,
  se_a         REAL CHECK (se_a >= 0),
  se_b         REAL CHECK (se_b >= 0),
  source       TEXT NOT NULL CHECK (source IN ('declared', 'calibrated')),
  n            INTEGER NOT NULL CHECK (n >= 0),
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX item_params_by_item ON item_params (item, item_version, id);
)sql";

// `assess serve` (assess/web): secrets are stored as SHA-256 hex digests, never as themselves.
constexpr std::string_view kWebSchema = R"sql(
CREATE TABLE interviewer_token (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  token_hash TEXT NOT NULL CHECK (length(token_hash) = 64),
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE invites (
  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
  session_id INTEGER NOT NULL REFERENCES sessions (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX invites_by_session ON invites (session_id);

CREATE TABLE web_sessions (
  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
  role       TEXT NOT NULL CHECK (role IN ('interviewer', 'candidate')),
  session_id INTEGER REFERENCES sessions (id)
             CHECK ((role = 'candidate') = (session_id IS NOT NULL)),
  csrf       TEXT NOT NULL CHECK (length(csrf) > 0),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
)sql";

// `assess checklist --db`: each run's report, for the web application's checklist pages.
constexpr std::string_view kChecklistSchema = R"sql(
CREATE TABLE checklist_runs (
  id         INTEGER PRIMARY KEY,
  target     TEXT NOT NULL CHECK (length(target) > 0),
  lang       TEXT NOT NULL CHECK (lang IN ('go', 'gocxx')),
  checked_at INTEGER NOT NULL,
  report     TEXT NOT NULL CHECK (json_valid(report) AND json_type(report) = 'object')
) STRICT;
)sql";

constexpr Migration kMigrations[] = {
    {1, "engine schema", kEngineSchema},
    {2, "web application", kWebSchema},
    {3, "checklist runs", kChecklistSchema},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace assess::sqlite
