package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// earlierStore is a store written by an earlier build (testdata/README.md).
const earlierStore = "testdata/store-95eec3b"

// TestOpenStoreOfEarlierBuild: a database written by an earlier build, on
// SQLite and on PostgreSQL, opens under this code. The versions it
// recorded stay, the steps it lacks run, and its schema then equals a
// fresh store's. Its rows read back, the audit chain still verifies and
// keeps growing, and opening it again changes nothing.
func TestOpenStoreOfEarlierBuild(t *testing.T) {
	ctx := context.Background()
	type pair struct{ old, fresh Options }
	setups := map[string]func(t *testing.T) pair{
		"sqlite": func(t *testing.T) pair {
			b, err := os.ReadFile(filepath.Join(earlierStore, "gateway.db"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "gateway.db"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			return pair{Options{DataDir: dir}, Options{DataDir: t.TempDir()}}
		},
		"postgres": func(t *testing.T) pair {
			pg := testenv.StartPostgres(t)
			old := pg.CreateDB(t, "old")
			dump, err := os.ReadFile(filepath.Join(earlierStore, "postgres.sql"))
			if err != nil {
				t.Fatal(err)
			}
			// A connection of its own: the dump empties search_path.
			conn, err := pgx.Connect(ctx, old)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, string(dump)); err != nil {
				t.Fatalf("restore %s: %v", earlierStore, err)
			}
			return pair{Options{DatabaseURL: old}, Options{DatabaseURL: pg.CreateDB(t, "fresh")}}
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			p := setup(t)
			s := openOpts(t, p.old)
			fresh := openOpts(t, p.fresh)
			want := make([]int, len(migrations))
			for i, m := range migrations {
				want[i] = m.version
			}
			if got := appliedVersions(t, s); !slices.Equal(got, want) {
				t.Fatalf("schema_migrations %v, want %v", got, want)
			}
			if got, want := schemaOf(t, s), schemaOf(t, fresh); !reflect.DeepEqual(got, want) {
				t.Fatalf("migrated schema differs from a fresh store's:\n%s", schemaDiff(got, want))
			}
			checkEarlierRows(t, s)

			n, probs, err := s.VerifyAudit(ctx)
			if err != nil || len(probs) != 0 || n < 10 {
				t.Fatalf("audit chain of the earlier store: n=%d %v %v", n, probs, err)
			}
			if err := s.CreateUser(ctx, "test", "erin", "correct horse battery", false); err != nil {
				t.Fatal(err)
			}
			if err := s.Audit(ctx, Event{Actor: "erin", Action: "test", Decision: "allow"}); err != nil {
				t.Fatal(err)
			}
			if n2, probs, err := s.VerifyAudit(ctx); err != nil || len(probs) != 0 || n2 != n+2 {
				t.Fatalf("after two appends: n=%d (was %d) %v %v", n2, n, probs, err)
			}
			s.Close()

			again := openOpts(t, p.old)
			if got := appliedVersions(t, again); !slices.Equal(got, want) {
				t.Fatalf("second open: schema_migrations %v, want %v", got, want)
			}
			if _, err := again.CheckLogin(ctx, "erin", "correct horse battery"); err != nil {
				t.Fatalf("second open: %v", err)
			}
		})
	}
}

// checkEarlierRows reads back what the earlier build wrote
// (testdata/store-95eec3b/README.md) through today's API.
func checkEarlierRows(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if u, err := s.CheckLogin(ctx, "alice", "correct horse battery"); err != nil || !u.Admin {
		t.Errorf("alice: %+v %v", u, err)
	}
	if _, err := s.CheckLogin(ctx, "carol", "battery staple correct"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled carol: %v", err)
	}
	bob, err := s.CheckLogin(ctx, "bob", "staple battery horse")
	if err != nil || bob.Admin || !slices.Equal(bob.Groups, []string{"ml-team"}) {
		t.Fatalf("bob: %+v %v", bob, err)
	}
	if toks, err := s.ListTokens(ctx, "bob"); err != nil || len(toks) != 1 || toks[0].Description != "ci" {
		t.Errorf("bob's tokens: %+v %v", toks, err)
	}
	if grants, err := s.ListGrants(ctx, nil); err != nil || len(grants) != 2 {
		t.Errorf("grants: %+v %v", grants, err)
	}
	if perms, err := s.Permissions(ctx, bob, "registered_model", []string{"fraud"}); err != nil || perms["fraud"] != Edit {
		t.Errorf("bob on model fraud (through ml-team): %v %v", perms, err)
	}
	as, err := s.ListApprovals(ctx, []string{ApprovalApproved}, 10)
	if err != nil || len(as) != 1 {
		t.Fatalf("approved requests: %+v %v", as, err)
	}
	if a := as[0]; a.Model != "fraud" || a.Version != "3" || a.Target != "alias:champion" || a.Requester != "bob" || a.Approver != "alice" ||
		a.TTL != 24*time.Hour || !a.ExpiresAt.Equal(time.Unix(1900086400, 0)) {
		t.Errorf("approval: %+v", a)
	}
	ses, u, err := s.LoadSession(ctx, "fixture-session-id-hash")
	if err != nil || u.Name != "dave" || !slices.Equal(ses.Groups, []string{"ml-team"}) {
		t.Errorf("dave's session: %+v %+v %v", ses, u, err)
	}
}

func appliedVersions(t *testing.T, s *Store) []int {
	return column[int](t, s, `SELECT version FROM schema_migrations ORDER BY version`)
}

// column reads the one column of every row q returns.
func column[T any](t *testing.T, s *Store, q string) []T {
	t.Helper()
	rows, err := s.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// schemaOf lists the tables, columns, indexes and constraints, one line
// each, in a stable order.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	queries := map[string][]string{
		"sqlite": {`SELECT type || ' ' || name || ' ' || tbl_name || ': ' || COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`},
		"postgres": {
			`SELECT table_name || '.' || column_name || ' #' || ordinal_position || ' ' || data_type || ' null=' || is_nullable || ' default=' || COALESCE(column_default, '')
			 FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
			`SELECT tablename || ' ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
			`SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
			 WHERE connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text, conname`,
		},
	}
	var out []string
	for _, q := range queries[s.dialect] {
		out = append(out, column[string](t, s, q)...)
	}
	if len(out) == 0 {
		t.Fatalf("no schema read for dialect %q", s.dialect)
	}
	return out
}

func schemaDiff(got, want []string) string {
	var b []byte
	for _, l := range got {
		if !slices.Contains(want, l) {
			b = fmt.Appendf(b, "  only migrated: %s\n", l)
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			b = fmt.Appendf(b, "  only fresh:    %s\n", l)
		}
	}
	return string(b)
}

// TestMigrationVersions: versions are 1, 2, 3... in order, so a new step
// is one row with the next number and a merge that numbers two steps alike
// fails here.
func TestMigrationVersions(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Fatalf("migrations[%d] has version %d, want %d", i, m.version, i+1)
		}
		if len(m.statements("sqlite")) == 0 && len(m.statements("postgres")) == 0 {
			t.Errorf("migration %d runs nothing on either dialect", m.version)
		}
	}
}
