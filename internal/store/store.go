// Package store keeps the gateway's state: users, API tokens, groups,
// grants and the hash-chained audit log. One set of migrations runs on the
// embedded SQLite file in --data-dir and on PostgreSQL (--database-url), so
// several gateway replicas can share one database.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Sentinel errors callers map to messages and exit codes.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
)

// Store is an open gateway database.
type Store struct {
	db      *sql.DB
	dialect string // "sqlite" or "postgres"
	key     []byte // server key for token hashes and the credential cache
	now     func() time.Time
	opts    Options
	aw      *auditWriter
}

// Options say where the state lives: DataDir (SQLite file gateway.db in it)
// or DatabaseURL (postgres://...). Exactly one must be set.
type Options struct {
	DataDir     string
	DatabaseURL string
	// SQLiteSyncFull makes every SQLite commit wait for fsync
	// (synchronous=FULL): a committed audit row survives a power loss or
	// an OS crash. The default (synchronous=NORMAL in WAL mode) survives
	// a crash or kill of the gateway process, but the last commits before
	// a power loss may roll back; the database and the audit chain stay
	// consistent either way. NORMAL takes a commit from about a millisecond
	// to tens of microseconds. PostgreSQL follows its server's settings.
	SQLiteSyncFull bool
}

// Open opens (and migrates) the store.
func Open(ctx context.Context, o Options) (*Store, error) {
	switch {
	case o.DataDir != "" && o.DatabaseURL != "":
		return nil, fmt.Errorf("%w: give --data-dir or --database-url, not both", ErrInvalid)
	case o.DataDir == "" && o.DatabaseURL == "":
		return nil, fmt.Errorf("%w: give --data-dir or --database-url", ErrInvalid)
	}
	s := &Store{now: time.Now, opts: o}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", o.DataDir, err)
		}
		abs, err := filepath.Abs(filepath.Join(o.DataDir, "gateway.db"))
		if err != nil {
			return nil, fmt.Errorf("data dir %s: %w", o.DataDir, err)
		}
		// _txlock=immediate: a write transaction takes the write lock when it
		// begins, so audit-chain appends from concurrent requests serialize
		// instead of failing at commit.
		sync := "NORMAL"
		if o.SQLiteSyncFull {
			sync = "FULL"
		}
		dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() +
			"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + sync + ")&_pragma=wal_autocheckpoint(4000)"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		s.db, s.dialect = db, "sqlite"
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		_ = os.Chmod(abs, 0o600)
	} else {
		cfg, err := pgx.ParseConfig(o.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("--database-url: %s", redactDSN(err.Error()))
		}
		cfg.RuntimeParams["application_name"] = "mlflow-guard-serve"
		db := stdlib.OpenDB(*cfg)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to PostgreSQL %s:%d/%s: %s", cfg.Host, cfg.Port, cfg.Database, redactDSN(err.Error()))
		}
		s.db, s.dialect = db, "postgres"
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.loadKey(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.startAuditWriter(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close writes the audit events already submitted, refuses new ones and
// closes the database.
func (s *Store) Close() error {
	if s.aw != nil {
		s.aw.close()
	}
	return s.db.Close()
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Key is the server secret (32 bytes) used for keyed hashes.
func (s *Store) Key() []byte { return s.key }

func redactDSN(msg string) string {
	if i := strings.Index(msg, "://"); i >= 0 {
		if at := strings.Index(msg[i:], "@"); at >= 0 {
			return msg[:i+3] + "<redacted>" + msg[i+at:]
		}
	}
	return msg
}

// loadKey reads the server key, creating it on first use. Two replicas
// starting at once race on the insert; the loser re-reads the winner's key.
func (s *Store) loadKey(ctx context.Context) error {
	for range 2 {
		var v string
		err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, "server_key").Scan(&v)
		if err == nil {
			k, err := hex.DecodeString(v)
			if err != nil || len(k) != 32 {
				return fmt.Errorf("store: server key is corrupt")
			}
			s.key = k
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: read server key: %w", err)
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		_, _ = s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, "server_key", hex.EncodeToString(k))
	}
	return fmt.Errorf("store: could not create the server key")
}

// migration is one step of the schema, one transaction. version is its
// row in schema_migrations: never renumber, reuse or remove one, since
// existing databases record them. A step runs all on both dialects, then
// the statements of its own dialect; a step with nothing to run on a
// dialect still records its version there, so both keep one numbering.
// Statements are separated by ";\n". Types are the common subset of
// SQLite and PostgreSQL (TEXT, BIGINT, INTEGER).
type migration struct {
	version          int
	all              string
	sqlite, postgres string
}

// migrations run in order of version. Adding one is one row here.
var migrations = []migration{
	{version: 1, all: baseMigration},
	{version: 2, all: oidcMigration},
	{version: 3, all: approvalsMigration},
	{version: 4, sqlite: auditRowidMigration}, // PostgreSQL keeps its BIGINT key
	{version: 5, all: backchannelMigration},
}

// baseMigration: users, API tokens, groups, grants and the audit log.
const baseMigration = `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users(name),
  hash TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  last_used BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE groups (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);
CREATE TABLE memberships (
  group_name TEXT NOT NULL REFERENCES groups(name),
  user_name TEXT NOT NULL REFERENCES users(name),
  PRIMARY KEY (group_name, user_name)
);
CREATE TABLE grants (
  principal_kind TEXT NOT NULL,
  principal TEXT NOT NULL,
  resource_kind TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  permission TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (principal_kind, principal, resource_kind, resource_id)
);
CREATE INDEX grants_resource ON grants (resource_kind, resource_id);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  ts BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  rule TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);`

// oidcMigration: the identity a provisioned user is bound to, and browser
// sessions kept here so every replica sees a login and a logout.
const oidcMigration = `ALTER TABLE users ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  flow_hash TEXT NOT NULL UNIQUE,
  user_name TEXT NOT NULL REFERENCES users(name),
  claim_groups TEXT NOT NULL DEFAULT '',
  claim_admin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_expiry ON sessions (expires_at);`

// auditRowidMigration makes audit_log.seq SQLite's rowid: "BIGINT PRIMARY
// KEY" is not a rowid alias, so every append also wrote a separate index
// page. One page less per commit; the rows, their order and their hashes
// are copied unchanged.
const auditRowidMigration = `CREATE TABLE audit_log_rowid (
  seq INTEGER PRIMARY KEY,
  ts BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  rule TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_log_rowid (seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash)
  SELECT seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_rowid RENAME TO audit_log`

// statements is what m runs on dialect ("sqlite" or "postgres").
func (m migration) statements(dialect string) []string {
	q := []string{m.all, m.postgres}
	if dialect == "sqlite" {
		q[1] = m.sqlite
	}
	var out []string
	for _, part := range q {
		for _, stmt := range strings.Split(part, ";\n") {
			if strings.TrimSpace(stmt) != "" {
				out = append(out, stmt)
			}
		}
	}
	return out
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, m := range migrations {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if s.dialect == "postgres" {
				// One replica migrates; the others wait here and then skip.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7417001)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range m.statements(s.dialect) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %d: %w", m.version, err)
		}
	}
	return nil
}

// tx runs fn in one transaction and commits it when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
