package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
)

// BenchmarkSQLiteRuns measures the database-mode secret search over a
// backend-shaped SQLite file of 5,000 runs x 20 params (1% leak a secret).
// "mlflow" has MLflow's own column types and primary keys, which let the
// source leave short values under ordinary keys unread; "untyped" has
// neither, so every value is read and checked.
func BenchmarkSQLiteRuns(b *testing.B) {
	for _, schema := range []struct{ name, runs, params, tags string }{
		{"mlflow",
			`CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, experiment_id INTEGER, name VARCHAR(250), lifecycle_stage VARCHAR(20), PRIMARY KEY (run_uuid))`,
			`CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid))`,
			`CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (key, run_uuid))`},
		{"untyped",
			`CREATE TABLE runs (run_uuid TEXT, experiment_id INTEGER, name TEXT, lifecycle_stage TEXT)`,
			`CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT)`,
			`CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT)`},
	} {
		b.Run(schema.name, func(b *testing.B) { benchSQLiteRuns(b, schema.runs, schema.params, schema.tags) })
	}
}

func benchSQLiteRuns(b *testing.B, schema ...string) {
	const runs, params = 5000, 20
	p := filepath.Join(b.TempDir(), "mlflow.db")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		b.Fatal(err)
	}
	tx, _ := db.Begin()
	for _, q := range append(schema,
		`CREATE TABLE datasets (dataset_uuid TEXT, name TEXT, dataset_source TEXT)`,
		`CREATE TABLE inputs (source_type TEXT, source_id TEXT, destination_type TEXT, destination_id TEXT)`,
	) {
		if _, err := tx.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	for i := range runs {
		id := fmt.Sprintf("%032x", i)
		tx.Exec(`INSERT INTO runs VALUES (?, ?, ?, ?)`, id, i%10, fmt.Sprintf("run-%d", i), "active")
		tx.Exec(`INSERT INTO tags VALUES ('mlflow.runName', ?, ?)`, fmt.Sprintf("run-%d", i), id)
		for j := range params {
			k, v := fmt.Sprintf("param_%d", j), fmt.Sprintf("%d.%d", (i*31+j)%9973, j)
			if i%100 == 0 && j == 0 {
				k, v = "api_key", "Zx9vQ2mL7pK4rT8wY3nB6cF1"
			}
			tx.Exec(`INSERT INTO params VALUES (?, ?, ?)`, k, v, id)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.ResetTimer()
	for range b.N {
		src, err := OpenDatabase(context.Background(), "sqlite:///"+p)
		if err != nil {
			b.Fatal(err)
		}
		a, _ := New(Options{Source: src, Policy: config.DefaultPolicy()})
		src.Runs(context.Background(), nil, (*runSink)(a), func(path string, err error) { b.Fatal(path, err) })
		if got := len(a.res.Findings); got != runs/100 {
			b.Fatalf("%d findings, want %d", got, runs/100)
		}
		src.Close()
	}
	b.ReportMetric(float64(runs*b.N)/b.Elapsed().Seconds(), "runs/s")
}
