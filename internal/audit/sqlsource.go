package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// SQLSource reads MLflow's SQL backend directly, read-only: SQLite opened
// with mode=ro and query_only, PostgreSQL in read-only transactions. Table
// and column names follow MLflow's SQLAlchemy models (mlflow/store/*/dbmodels).
type SQLSource struct {
	db   *sql.DB
	kind string
	// Workers judge rows while one goroutine reads them (default GOMAXPROCS).
	Workers int
}

// OpenDatabase opens a backend-store URI as MLflow writes it:
// sqlite:///relative.db, sqlite:////abs/path.db, postgresql://... (a
// +driver suffix such as postgresql+psycopg2 is accepted). The URI never
// appears in errors with its password.
func OpenDatabase(ctx context.Context, uri string) (*SQLSource, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return nil, fmt.Errorf("%w: want sqlite:///path or postgresql://host/db", ErrDatabaseURI)
	}
	scheme, _, _ = strings.Cut(strings.ToLower(scheme), "+")
	switch scheme {
	case "sqlite":
		// SQLAlchemy form: sqlite:///rel or sqlite:////abs; the path starts
		// after the third slash.
		p := strings.TrimPrefix(rest, "/")
		if p == "" || p == ":memory:" {
			return nil, fmt.Errorf("%w: sqlite URI names no file", ErrDatabaseURI)
		}
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("--database-uri %s: %w", p, err)
		}
		dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		return &SQLSource{db: db, kind: "sqlite"}, nil
	case "postgres", "postgresql":
		cfg, err := pgx.ParseConfig("postgres://" + rest)
		if err != nil {
			return nil, fmt.Errorf("%w (postgresql): %s", ErrDatabaseURI, redactDSNError(err))
		}
		// Every transaction of this connection is read-only, not only the
		// ones we open explicitly.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		cfg.RuntimeParams["application_name"] = "mlflow-guard-audit"
		db := stdlib.OpenDB(*cfg)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to PostgreSQL %s:%d/%s: %s", cfg.Host, cfg.Port, cfg.Database, redactDSNError(err))
		}
		return &SQLSource{db: db, kind: "postgres"}, nil
	}
	return nil, fmt.Errorf("%w: unsupported scheme %q (sqlite or postgresql)", ErrDatabaseURI, scheme)
}

// ErrDatabaseURI is a --database-uri that is not a usable URI at all (a
// usage error), as opposed to a database that could not be opened.
var ErrDatabaseURI = errors.New("--database-uri")

// redactDSNError keeps a driver error but never a password it may quote.
func redactDSNError(err error) string {
	s := err.Error()
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.Index(s[i:], "@"); at >= 0 {
			s = s[:i+3] + "<redacted>" + s[i+at:]
		}
	}
	return s
}

// Name implements Source.
func (s *SQLSource) Name() string { return s.kind }

// Close implements Source.
func (s *SQLSource) Close() error { return s.db.Close() }

// query runs one read-only query and calls row for each result row.
func (s *SQLSource) query(ctx context.Context, q string, row func(*sql.Rows) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%w (is this an MLflow backend store of a supported version?)", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Experiments implements Source.
func (s *SQLSource) Experiments(ctx context.Context) ([]mlflowapi.Experiment, error) {
	var out []mlflowapi.Experiment
	idx := map[string]int{}
	err := s.query(ctx, `SELECT experiment_id, name, COALESCE(artifact_location, ''), COALESCE(lifecycle_stage, '') FROM experiments`, func(r *sql.Rows) error {
		var id int64
		var e mlflowapi.Experiment
		if err := r.Scan(&id, &e.Name, &e.ArtifactLocation, &e.LifecycleStage); err != nil {
			return err
		}
		e.ExperimentID = strconv.FormatInt(id, 10)
		idx[e.ExperimentID] = len(out)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("experiments: %w", err)
	}
	err = s.query(ctx, `SELECT experiment_id, key, COALESCE(value, '') FROM experiment_tags`, func(r *sql.Rows) error {
		var id int64
		var t mlflowapi.Tag
		if err := r.Scan(&id, &t.Key, &t.Value); err != nil {
			return err
		}
		if i, ok := idx[strconv.FormatInt(id, 10)]; ok {
			out[i].Tags = append(out[i].Tags, t)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("experiment_tags: %w", err)
	}
	return out, nil
}

type runRef struct{ exp, name string }

type sqlValue struct {
	exp, run   string
	field      Field
	key, value string
}

// Runs implements Source: one pass over each table, rows judged by a pool.
func (s *SQLSource) Runs(ctx context.Context, _ []mlflowapi.Experiment, sink RunSink, fail func(string, error)) {
	runs := map[string]runRef{}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batches := make(chan []sqlValue, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				for _, v := range b {
					sink.Value(v.exp, v.run, v.field, v.key, v.value)
				}
			}
		}()
	}
	const batchSize = 2048
	batch := make([]sqlValue, 0, batchSize)
	emit := func(v sqlValue) {
		batch = append(batch, v)
		if len(batch) == batchSize {
			batches <- batch
			batch = make([]sqlValue, 0, batchSize)
		}
	}
	del, _ := sink.(deletedSink)
	err := s.query(ctx, `SELECT run_uuid, experiment_id, COALESCE(name, ''), COALESCE(lifecycle_stage, '') FROM runs`, func(r *sql.Rows) error {
		var id, name, stage string
		var exp int64
		if err := r.Scan(&id, &exp, &name, &stage); err != nil {
			return err
		}
		ref := runRef{exp: strconv.FormatInt(exp, 10), name: name}
		runs[id] = ref
		sink.RunSeen()
		if del != nil && stage == "deleted" {
			del.RunDeleted(id)
		}
		if name != "" {
			emit(sqlValue{ref.exp, id, FieldRunName, "run_name", name})
		}
		return nil
	})
	if err != nil {
		fail("runs", fmt.Errorf("runs: %w", err))
	}
	// Scan targets live outside the row functions: Scan's arguments escape,
	// and three allocations a row are measurable on millions of rows.
	var id, k, v string
	var lastID string
	var lastRef runRef
	kvRow := func(field Field) func(*sql.Rows) error {
		return func(r *sql.Rows) error {
			if err := r.Scan(&id, &k, &v); err != nil {
				return err
			}
			// Rows come in insertion order, a run's values together: the
			// last run saves most map lookups.
			if id != lastID {
				lastID, lastRef = id, runs[id]
			}
			if field == FieldTag && k == "mlflow.runName" && v == lastRef.name {
				return nil
			}
			emit(sqlValue{lastRef.exp, lastID, field, k, v})
			return nil
		}
	}
	qs, _ := sink.(quietSink)
	kv := func(table string, field Field) {
		row := kvRow(field)
		done := false
		var err error
		if qs != nil && s.kind == "sqlite" {
			done, err = s.kvQuiet(ctx, table, field, qs, row)
		}
		if !done && err == nil {
			err = s.query(ctx, `SELECT run_uuid, key, COALESCE(value, '') FROM `+table, row)
		}
		if err != nil {
			fail(table, fmt.Errorf("%s: %w", table, err))
		}
	}
	kv("params", FieldParam)
	kv("tags", FieldTag)
	err = s.query(ctx, `SELECT i.destination_id, d.name, d.dataset_source FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
		WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'`, func(r *sql.Rows) error {
		var id, name, src string
		if err := r.Scan(&id, &name, &src); err != nil {
			return err
		}
		emit(sqlValue{runs[id].exp, id, FieldDataset, name, src})
		return nil
	})
	if err != nil {
		fail("datasets", fmt.Errorf("datasets: %w", err))
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
}

// quietKeysCap bounds the distinct keys kvQuiet lists; a table with more
// is read whole.
const quietKeysCap = 2048

// kvQuiet reads a params or tags table of SQLite without the values no
// check can flag: shorter than secrets.QuietBelow bytes, under a key the
// sink calls quiet (hyperparameters such as lr=0.01 are most rows of a
// large store). In one read transaction, so one snapshot: the row count (to
// count the values left unread), the distinct keys (a skip scan of the
// primary-key index), the rows whose value is long enough to matter, then
// the short values of each key that is not quiet.
//
// It reads nothing and returns done=false when the database gives weaker
// guarantees than this needs: an encoding other than UTF-8 (octet_length
// would not count the bytes Go sees), a value column without TEXT affinity
// (a REAL would be rendered differently by SQLite and by Go), NULLs allowed
// in run_uuid or key (the full read fails on them, and must keep failing),
// no index to list the keys with, or too many distinct keys.
func (s *SQLSource) kvQuiet(ctx context.Context, table string, field Field, qs quietSink, row func(*sql.Rows) error) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	var enc string
	if err := tx.QueryRowContext(ctx, `PRAGMA encoding`).Scan(&enc); err != nil || enc != "UTF-8" {
		return false, nil
	}
	cols, err := tx.QueryContext(ctx, `SELECT name, type, "notnull" FROM pragma_table_info('`+table+`')`)
	if err != nil {
		return false, nil
	}
	need := 0
	for cols.Next() {
		var name, typ string
		var notNull bool
		if err := cols.Scan(&name, &typ, &notNull); err != nil {
			cols.Close()
			return false, nil
		}
		switch name {
		case "run_uuid", "key":
			if notNull {
				need++
			}
		case "value":
			// SQLite's affinity rules: INT first, then CHAR, CLOB or TEXT.
			t := strings.ToUpper(typ)
			if !strings.Contains(t, "INT") && (strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT")) {
				need++
			}
		}
	}
	if cols.Close(); cols.Err() != nil || need != 3 {
		return false, nil
	}
	// The key listing seeks an index that starts with key in BINARY order
	// (MLflow's primary key); without one each seek would scan the table.
	var indexed int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_index_list('`+table+`') l, pragma_index_xinfo(l.name) x
		WHERE x.seqno = 0 AND x.name = 'key' AND x.coll = 'BINARY'`).Scan(&indexed); err != nil || indexed == 0 {
		return false, nil
	}
	var total int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&total); err != nil {
		return false, fmt.Errorf("%w (is this an MLflow backend store of a supported version?)", err)
	}
	// Every distinct key, in BINARY order, one index seek each. A key whose
	// short values are not read must be listed here as quiet, so the order
	// is BINARY whatever the column's collation.
	keys, err := tx.QueryContext(ctx, `WITH RECURSIVE k(x) AS (
		SELECT (SELECT min(key COLLATE BINARY) FROM `+table+`)
		UNION ALL
		SELECT (SELECT min(key COLLATE BINARY) FROM `+table+` WHERE key COLLATE BINARY > k.x) FROM k WHERE k.x IS NOT NULL
		LIMIT `+strconv.Itoa(quietKeysCap+2)+`)
		SELECT x FROM k WHERE x IS NOT NULL`)
	if err != nil {
		return false, fmt.Errorf("%w (is this an MLflow backend store of a supported version?)", err)
	}
	var loud []any // keys whose short values are read, as stored (TEXT or BLOB)
	n := 0
	for keys.Next() {
		var x any
		if err := keys.Scan(&x); err != nil {
			keys.Close()
			return false, err
		}
		n++
		// The key as the full read's Scan into a string sees it.
		var key string
		quiet := false
		switch x := x.(type) {
		case string:
			key, quiet = x, true
		case []byte:
			key, quiet = string(x), true
		}
		if quiet && field == FieldTag && key == "mlflow.runName" {
			quiet = false // the run-name rule below compares every one
		}
		if !quiet || !qs.QuietKey(field, key) {
			loud = append(loud, x)
		}
	}
	if keys.Close(); keys.Err() != nil {
		return false, keys.Err()
	}
	if n > quietKeysCap {
		return false, nil
	}
	fetched := int64(0)
	read := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("%w (is this an MLflow backend store of a supported version?)", err)
		}
		defer rows.Close()
		for rows.Next() {
			fetched++
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	// A loud key with few rows has its short values read through the
	// primary-key index, one seek a row; one on many rows (mlflow.runName is
	// on every run) joins the table scan instead.
	var seek, scan []any
	for _, key := range loud {
		var rows int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE key COLLATE BINARY = ?`, key).Scan(&rows); err != nil {
			return false, fmt.Errorf("%w (is this an MLflow backend store of a supported version?)", err)
		}
		if rows*32 > total {
			scan = append(scan, key)
		} else {
			seek = append(seek, key)
		}
	}
	minLen := strconv.Itoa(secrets.QuietBelow)
	cols3 := `SELECT run_uuid, key, COALESCE(value, '') FROM ` + table
	where := ` WHERE octet_length(value) >= ` + minLen
	if len(scan) > 0 {
		where += ` OR key COLLATE BINARY IN (?` + strings.Repeat(`, ?`, len(scan)-1) + `)`
	}
	if err := read(cols3+where, scan...); err != nil {
		return true, err
	}
	for _, key := range seek {
		if err := read(cols3+` WHERE key COLLATE BINARY = ? AND COALESCE(octet_length(value), 0) < `+minLen, key); err != nil {
			return true, err
		}
	}
	qs.Skipped(total - fetched)
	return true, nil
}

// ModelVersions implements Source.
func (s *SQLSource) ModelVersions(ctx context.Context, fn func(mlflowapi.ModelVersion), fail func(string, error)) {
	type key struct{ name, version string }
	var versions []mlflowapi.ModelVersion
	idx := map[key]int{}
	err := s.query(ctx, `SELECT name, version, COALESCE(current_stage, ''), COALESCE(source, ''), COALESCE(run_id, ''), COALESCE(storage_location, '') FROM model_versions`, func(r *sql.Rows) error {
		var mv mlflowapi.ModelVersion
		var v int64
		if err := r.Scan(&mv.Name, &v, &mv.CurrentStage, &mv.Source, &mv.RunID, &mv.StorageLocation); err != nil {
			return err
		}
		mv.Version = strconv.FormatInt(v, 10)
		idx[key{mv.Name, mv.Version}] = len(versions)
		versions = append(versions, mv)
		return nil
	})
	if err != nil {
		fail("registered-models", fmt.Errorf("model_versions: %w", err))
		return
	}
	err = s.query(ctx, `SELECT name, version, key, COALESCE(value, '') FROM model_version_tags`, func(r *sql.Rows) error {
		var name string
		var v int64
		var t mlflowapi.Tag
		if err := r.Scan(&name, &v, &t.Key, &t.Value); err != nil {
			return err
		}
		if i, ok := idx[key{name, strconv.FormatInt(v, 10)}]; ok {
			versions[i].Tags = append(versions[i].Tags, t)
		}
		return nil
	})
	if err != nil {
		fail("registered-models", fmt.Errorf("model_version_tags: %w", err))
	}
	err = s.query(ctx, `SELECT name, alias, version FROM registered_model_aliases`, func(r *sql.Rows) error {
		var name, alias string
		var v int64
		if err := r.Scan(&name, &alias, &v); err != nil {
			return err
		}
		if i, ok := idx[key{name, strconv.FormatInt(v, 10)}]; ok {
			versions[i].Aliases = append(versions[i].Aliases, alias)
		}
		return nil
	})
	if err != nil {
		fail("registered-models", fmt.Errorf("registered_model_aliases: %w", err))
	}
	// Registry reads are cheap; MLmodel downloads (with a client) are not.
	parallel(ctx, len(versions), 4, func(i int) { fn(versions[i]) })
}
