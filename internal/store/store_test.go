package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// backends opens a fresh store on SQLite and on a real PostgreSQL.
func backends(t *testing.T) map[string]func(t *testing.T) *Store {
	return map[string]func(t *testing.T) *Store{
		"sqlite": func(t *testing.T) *Store {
			return openOpts(t, Options{DataDir: t.TempDir()})
		},
		"postgres": func(t *testing.T) *Store {
			pg := testenv.StartPostgres(t)
			return openOpts(t, Options{DatabaseURL: pg.CreateDB(t, "guard")})
		},
	}
}

func openOpts(t *testing.T, o Options) *Store {
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	s.opts = o
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			if err := s.CreateUser(ctx, "test", "alice", "correct horse battery", false); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateUser(ctx, "test", "alice", "correct horse battery", false); !errors.Is(err, ErrExists) {
				t.Fatalf("duplicate user: %v", err)
			}
			if err := s.CreateUser(ctx, "test", "bob", "short", false); !errors.Is(err, ErrInvalid) {
				t.Fatalf("short password: %v", err)
			}
			if err := s.CreateUser(ctx, "test", "bad:name", "correct horse battery", false); !errors.Is(err, ErrInvalid) {
				t.Fatalf("colon in name: %v", err)
			}
			if _, err := s.CheckLogin(ctx, "alice", "correct horse battery"); err != nil {
				t.Fatalf("login: %v", err)
			}
			for _, c := range [][2]string{{"alice", "wrong password!!"}, {"nobody", "correct horse battery"}} {
				if _, err := s.CheckLogin(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
					t.Fatalf("login %v: %v", c, err)
				}
			}
			// Tokens: only the keyed hash is stored.
			tok, meta, err := s.CreateToken(ctx, "test", "alice", "ci", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok, TokenPrefix) || len(tok) < 40 {
				t.Fatalf("token shape %q", tok)
			}
			var n int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM tokens WHERE hash = $1`, tok).Scan(&n); err != nil || n != 0 {
				t.Fatalf("plaintext token stored (n=%d, %v)", n, err)
			}
			u, tm, err := s.CheckToken(ctx, tok)
			if err != nil || u.Name != "alice" || tm.ID != meta.ID || tm.LastUsed.IsZero() {
				t.Fatalf("check token: %v %+v %+v", err, u, tm)
			}
			if _, _, err := s.CheckToken(ctx, tok+"x"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("wrong token: %v", err)
			}
			// Expiry.
			s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			if _, _, err := s.CheckToken(ctx, tok); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("expired token: %v", err)
			}
			s.now = time.Now
			// Disable, then revoke.
			if err := s.SetDisabled(ctx, "test", "alice", true); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CheckToken(ctx, tok); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("disabled user's token: %v", err)
			}
			if _, err := s.CheckLogin(ctx, "alice", "correct horse battery"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("disabled login: %v", err)
			}
			if err := s.SetDisabled(ctx, "test", "alice", false); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeToken(ctx, "test", meta.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CheckToken(ctx, tok); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("revoked token: %v", err)
			}
			// Groups and grants.
			if err := s.CreateUser(ctx, "test", "bob", "another long password", false); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateGroup(ctx, "test", "team"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetMember(ctx, "test", "team", "bob", true); err != nil {
				t.Fatal(err)
			}
			if err := s.SetMember(ctx, "test", "team", "ghost", true); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown member: %v", err)
			}
			if err := s.AddGrant(ctx, "test", Grant{Principal{"group", "team"}, "experiment", "7", Read}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.AddGrant(ctx, "test", Grant{Principal{"user", "bob"}, "experiment", "7", Edit}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.AddGrant(ctx, "test", Grant{Principal{"user", "bob"}, "nonsense", "7", Edit}, nil); !errors.Is(err, ErrInvalid) {
				t.Fatalf("bad kind: %v", err)
			}
			bob, err := s.LoadUser(ctx, "bob")
			if err != nil {
				t.Fatal(err)
			}
			perms, err := s.Permissions(ctx, bob, "experiment", []string{"7", "8"})
			if err != nil || perms["7"] != Edit || perms["8"] != None {
				t.Fatalf("perms %v %v", perms, err)
			}
			alice, _ := s.LoadUser(ctx, "alice")
			if perms, _ := s.Permissions(ctx, alice, "experiment", nil); len(perms) != 0 {
				t.Fatalf("alice has %v", perms)
			}
			if err := s.RemoveGrant(ctx, "test", Principal{"user", "bob"}, "experiment", "7"); err != nil {
				t.Fatal(err)
			}
			if perms, _ := s.Permissions(ctx, bob, "experiment", nil); perms["7"] != Read {
				t.Fatalf("after removal %v", perms)
			}
			// Every change above is in the chain, and the chain verifies.
			n64, probs, err := s.VerifyAudit(ctx)
			if err != nil || len(probs) != 0 || n64 < 10 {
				t.Fatalf("verify: n=%d %v %v", n64, probs, err)
			}
			// Tampering: edit, delete, reorder, truncate.
			tamper := func(name, q string, want string) {
				t.Helper()
				snap := snapshotAudit(t, s)
				for _, stmt := range strings.Split(q, ";") {
					if _, err := s.db.Exec(stmt); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
				_, probs, err := s.VerifyAudit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range probs {
					if strings.Contains(p.Problem, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s not detected: %v", name, probs)
				}
				restoreAudit(t, s, snap)
				if _, probs, _ := s.VerifyAudit(ctx); len(probs) != 0 {
					t.Fatalf("restore after %s: %v", name, probs)
				}
			}
			tamper("edit", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`, "edited")
			tamper("delete", `DELETE FROM audit_log WHERE seq = 4`, "missing or moved")
			tamper("reorder", `UPDATE audit_log SET seq = -1 WHERE seq = 2;UPDATE audit_log SET seq = 2 WHERE seq = 3;UPDATE audit_log SET seq = 3 WHERE seq = -1`, "link broken")
			tamper("truncate", `DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)`, "recorded head")
			var buf strings.Builder
			if err := s.ExportAudit(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			if lines := strings.Count(buf.String(), "\n"); int64(lines) != n64 || !strings.Contains(buf.String(), `"action":"grants.add"`) {
				t.Fatalf("export: %d lines\n%s", lines, buf.String())
			}
		})
	}
}

func snapshotAudit(t *testing.T, s *Store) []Event {
	var out []Event
	if err := s.eachAudit(context.Background(), func(e *Event) error { out = append(out, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func restoreAudit(t *testing.T, s *Store, evs []Event) {
	if _, err := s.db.Exec(`DELETE FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if _, err := s.db.Exec(`INSERT INTO audit_log (seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			e.Seq, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail, e.PrevHash, e.Hash); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent appends from two store handles on one database (two
// replicas) keep one valid chain.
func TestAuditConcurrent(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			a := open(t)
			b := openOpts(t, a.opts) // a second handle, as a second replica has
			ctx := context.Background()
			errs := make(chan error, 40)
			for i := range 40 {
				st := a
				if i%2 == 1 {
					st = b
				}
				go func() { errs <- st.Audit(ctx, Event{Actor: "x", Action: "test", Decision: "deny"}) }()
			}
			for range 40 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			n, probs, err := a.VerifyAudit(ctx)
			if err != nil || n != 40 || len(probs) != 0 {
				t.Fatalf("n=%d %v %v", n, probs, err)
			}
		})
	}
}

// BenchmarkCheckPassword measures what one argon2id login costs.
func BenchmarkCheckPassword(b *testing.B) {
	h, err := HashPassword("a benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !CheckPassword(h, "a benchmark password") {
			b.Fatal("no match")
		}
	}
}
