package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
)

// plainSink hides the quietSink methods: the source reads every value.
type plainSink struct{ s *runSink }

func (p plainSink) RunSeen() { p.s.RunSeen() }
func (p plainSink) Value(e, r string, f Field, k, v string) {
	p.s.Value(e, r, f, k, v)
}

// quietDB writes a backend-shaped SQLite file whose params and tags hold
// the cases the quiet read must not lose: short values under secret keys,
// keys stored as BLOB, NULL and multi-byte values around the length bound,
// run-name tags equal and not equal to the run name, and keys that differ
// only in case. keyType and valueType are the declared column types.
func quietDB(t *testing.T, keyType, valueType string, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mlflow.db")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), experiment_id INTEGER, lifecycle_stage VARCHAR(20), PRIMARY KEY (run_uuid))`,
		fmt.Sprintf(`CREATE TABLE params (key %s, value %s, run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid))`, keyType, valueType),
		fmt.Sprintf(`CREATE TABLE tags (key %s, value %s, run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid))`, keyType, valueType),
		`CREATE INDEX index_params_run_uuid ON params (run_uuid)`,
		`CREATE TABLE datasets (dataset_uuid TEXT, name TEXT, dataset_source TEXT)`,
		`CREATE TABLE inputs (source_type TEXT, source_id TEXT, destination_type TEXT, destination_id TEXT)`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range extra {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ins := func(table string, key, value any, run string) {
		t.Helper()
		if _, err := tx.Exec(`INSERT INTO `+table+` (key, value, run_uuid) VALUES (?, ?, ?)`, key, value, run); err != nil {
			t.Fatalf("%s %v=%v: %v", table, key, value, err)
		}
	}
	const runs = 60
	for i := range runs {
		id := fmt.Sprintf("%032x", i)
		name := []string{fmt.Sprintf("run-%d", i), "short", "", "a-rather-long-run-name"}[i%4]
		if _, err := tx.Exec(`INSERT INTO runs VALUES (?, ?, ?, ?)`, id, name, i%3, "active"); err != nil {
			t.Fatal(err)
		}
		for j := range 20 {
			ins("params", fmt.Sprintf("param_%d", j), fmt.Sprintf("%d.%d", i*7+j, j), id)
		}
		// mlflow.runName on every run: equal to the name, or not, short or long.
		switch i % 5 {
		case 0:
			ins("tags", "mlflow.runName", name, id)
		case 1:
			ins("tags", "mlflow.runName", "other", id)
		case 2:
			ins("tags", "mlflow.runName", nil, id)
		case 3:
			ins("tags", "mlflow.runName", "a-different-long-name", id)
		}
		if i%2 == 0 { // on many runs: read in the table scan
			ins("params", "password", []string{"hunter2", "", "x", "${PW}", "S3cretPassw0rd!"}[i%5], id)
		}
		switch i {
		case 1: // on few runs: read through the index
			ins("params", "api_key", "pw12", id)
		case 2:
			ins("params", []byte("api_key"), []byte("pw34"), id) // BLOB key and value
		case 3:
			ins("params", []byte("cache_key"), "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb", id)
		case 4:
			ins("params", "dbPass", "abc1234", id) // secret by its camelCase hump
		case 5:
			ins("params", "dbpass", "abc1234", id) // one word: not a secret key
		case 6:
			ins("params", "note", "é€漢", id) // 3 characters, 8 bytes
		case 7:
			ins("params", "note", "ab\x00cdefgh", id)
		case 8:
			ins("params", "uri", "postgresql://u:Sup3rS3cretPw@db/x", id)
		case 9:
			ins("params", "note", []byte("AKIAUJZDEGXDNCF32EPF"), id)
		case 10:
			ins("tags", "token", "abc123", id)
		case 11:
			ins("tags", "token", nil, id)
		case 12:
			ins("tags", "Token", "zz9zz9", id)
		case 13:
			ins("tags", "note", "tokn", id)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return p
}

// readRuns runs the SQLite source over p, with or without the quiet read.
func readRuns(t *testing.T, p string, quiet bool) (findings []string, values int64) {
	t.Helper()
	src, err := OpenDatabase(context.Background(), "sqlite:///"+p)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a, _ := New(Options{Source: src, Policy: config.DefaultPolicy()})
	var sink RunSink = (*runSink)(a)
	if !quiet {
		sink = plainSink{(*runSink)(a)}
	}
	src.Runs(context.Background(), nil, sink, func(path string, err error) { t.Fatal(path, err) })
	for _, f := range a.res.Findings {
		findings = append(findings, f.RuleID+" "+f.Path+" "+f.Message)
	}
	slices.Sort(findings)
	return findings, a.stats.values.Load()
}

// TestQuietReadSameResult: leaving short values under quiet keys unread
// changes neither the findings nor the count of values checked.
func TestQuietReadSameResult(t *testing.T) {
	for _, c := range []struct {
		name, keyType, valueType string
		extra                    []string
		quiet                    bool // the quiet read applies
	}{
		{"mlflow", "VARCHAR(250) NOT NULL", "VARCHAR(8000)", nil, true},
		// Keys that differ only in case, listed through a BINARY index.
		{"nocase-keys", "VARCHAR(250) COLLATE NOCASE NOT NULL", "TEXT", []string{
			`CREATE INDEX pk_binary ON params (key COLLATE BINARY, run_uuid)`,
			`CREATE INDEX tk_binary ON tags (key COLLATE BINARY, run_uuid)`,
		}, true},
		{"nocase-index", "VARCHAR(250) COLLATE NOCASE NOT NULL", "TEXT", nil, false},
		{"untyped-value", "VARCHAR(250) NOT NULL", "", nil, false},
		{"nullable-key", "VARCHAR(250)", "TEXT", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := quietDB(t, c.keyType, c.valueType, c.extra...)
			src, err := OpenDatabase(context.Background(), "sqlite:///"+p)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := New(Options{Source: src, Policy: config.DefaultPolicy()})
			done, err := src.kvQuiet(context.Background(), "params", FieldParam, (*runSink)(a), func(*sql.Rows) error { return nil })
			src.Close()
			if err != nil || done != c.quiet {
				t.Fatalf("kvQuiet: done=%v err=%v, want done=%v", done, err, c.quiet)
			}
			want, wantN := readRuns(t, p, false)
			got, gotN := readRuns(t, p, true)
			if !slices.Equal(got, want) || gotN != wantN {
				t.Errorf("quiet read: %d values, findings:\n%s\nfull read: %d values, findings:\n%s",
					gotN, strings.Join(got, "\n"), wantN, strings.Join(want, "\n"))
			}
			if len(want) < 8 {
				t.Errorf("only %d findings: the fixture lost its secrets:\n%s", len(want), strings.Join(want, "\n"))
			}
		})
	}
}
