package audit

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

func TestOpenDatabaseErrors(t *testing.T) {
	ctx := context.Background()
	for _, uri := range []string{"mysql://u:pw@h/db", "sqlite:///", "nonsense", "sqlite:///" + filepath.Join(t.TempDir(), "missing.db")} {
		s, err := OpenDatabase(ctx, uri)
		if err == nil {
			// modernc opens a missing file lazily; the first query must fail.
			if _, qerr := s.Experiments(ctx); qerr == nil {
				t.Errorf("OpenDatabase(%q): no error", uri)
			}
			s.Close()
			continue
		}
		if strings.Contains(err.Error(), "pw") {
			t.Errorf("OpenDatabase(%q) error leaks the password: %v", uri, err)
		}
	}
	_, err := OpenDatabase(ctx, "postgresql://auditor:S3cret-pw@127.0.0.1:1/mlflow?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "S3cret-pw") {
		t.Errorf("unreachable PostgreSQL: err=%v (must fail without the password)", err)
	}
}

// TestSQLiteReadOnly: the connection refuses writes, even raw ones.
func TestSQLiteReadOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mlflow.db")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE experiments (experiment_id INTEGER, name TEXT, artifact_location TEXT, lifecycle_stage TEXT);
		INSERT INTO experiments VALUES (1, 'e', 'file:///x', 'active');
		CREATE TABLE experiment_tags (key TEXT, value TEXT, experiment_id INTEGER);`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenDatabase(context.Background(), "sqlite:///"+p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments(context.Background())
	if err != nil || len(exps) != 1 || exps[0].ArtifactLocation != "file:///x" {
		t.Fatalf("exps=%v err=%v", exps, err)
	}
	if _, err := s.db.Exec(`INSERT INTO experiments VALUES (2, 'x', '', 'active')`); err == nil {
		t.Error("write through the audit connection succeeded")
	}
	// A missing table (an older schema) is an error naming the table.
	var fails []string
	s.ModelVersions(context.Background(), nil, func(path string, err error) { fails = append(fails, err.Error()) })
	if len(fails) == 0 || !strings.Contains(fails[0], "model_versions") {
		t.Errorf("missing table: %v", fails)
	}
}

// TestPostgresReadOnly: sessions are read-only against a real PostgreSQL.
func TestPostgresReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := testenv.StartPostgres(t)
	uri := pg.CreateDB(t, "ro")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE experiments (experiment_id INTEGER, name TEXT, artifact_location TEXT, lifecycle_stage TEXT);
		INSERT INTO experiments VALUES (7, 'e', 's3://b/x/../y', 'active');
		CREATE TABLE experiment_tags (key TEXT, value TEXT, experiment_id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	s, err := OpenDatabase(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments(ctx)
	if err != nil || len(exps) != 1 || exps[0].ExperimentID != "7" {
		t.Fatalf("exps=%v err=%v", exps, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO experiments VALUES (8, 'x', '', 'active')`)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write through the audit connection: %v, want a read-only error", err)
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	a, err := New(Options{Source: &RESTSource{}, Policy: config.DefaultPolicy(), Progress: &buf})
	if err != nil {
		t.Fatal(err)
	}
	stop := a.startProgress()
	a.stats.runs.Add(42)
	time.Sleep(300 * time.Millisecond) // one poll of the counters
	stop()
	if out := buf.String(); !strings.Contains(out, "(42/-") ||
		!strings.Contains(out, "runs/s") {
		t.Errorf("progress output %q", buf.String())
	}
}
