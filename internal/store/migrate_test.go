package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A database written before the rowid migration (audit_log.seq a BIGINT key with
// its own index) keeps every row and a valid chain when the rowid
// migration rebuilds the table, and appends continue the same chain.
func TestAuditRowidMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := s.Audit(ctx, Event{Actor: "a", Action: "test", Decision: "allow"}); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotAudit(t, s)
	// Put the old table back and forget the migration, as an older
	// binary left the file.
	v := slices.Index(migrations, auditRowidMigration) + 1
	old := `CREATE TABLE audit_log_old (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, route TEXT NOT NULL, resource TEXT NOT NULL, decision TEXT NOT NULL, rule TEXT NOT NULL, request_id TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_log_old SELECT * FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
DELETE FROM schema_migrations WHERE version = ` + strconv.Itoa(v)
	for _, q := range strings.Split(old, ";\n") {
		if err := s.TamperForTest(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if got := auditTableSQL(t, s); !strings.Contains(got, "BIGINT PRIMARY KEY") {
		t.Fatalf("old schema not restored: %s", got)
	}
	s.Close()

	s, err = Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := auditTableSQL(t, s); !strings.Contains(got, "seq INTEGER PRIMARY KEY") {
		t.Fatalf("migration %d did not run: %s", v, got)
	}
	after := snapshotAudit(t, s)
	if len(after) != len(before) {
		t.Fatalf("%d rows before, %d after", len(before), len(after))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("row %d changed:\n%+v\n%+v", i, before[i], after[i])
		}
	}
	if err := s.Audit(ctx, Event{Actor: "a", Action: "test", Decision: "allow"}); err != nil {
		t.Fatal(err)
	}
	n, probs, err := s.VerifyAudit(ctx)
	if err != nil || n != 6 || len(probs) != 0 {
		t.Fatalf("n=%d %v %v", n, probs, err)
	}
}

func auditTableSQL(t *testing.T, s *Store) string {
	var q string
	if err := s.db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'`).Scan(&q); err != nil {
		t.Fatal(err)
	}
	return q
}
