package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Back-channel logout on both backends; on PostgreSQL the jti is recorded
// through one Store handle and replayed through another, as two replicas.
func TestBackchannelLogout(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			a := open(t)
			b := a
			if name == "postgres" {
				b = openOpts(t, a.opts)
			}
			ctx := context.Background()
			exp := time.Now().Add(time.Hour)
			mk := func(user, subj, sid, id string) {
				t.Helper()
				if err := a.CreateOIDCSession(ctx, OIDCLogin{Name: user, Subject: subj, SID: sid, IDHash: id, FlowHash: "f" + id, Expires: exp}); err != nil {
					t.Fatal(err)
				}
			}
			live := func(id string) bool {
				_, _, err := b.LoadSession(ctx, id)
				return err == nil
			}
			mk("ann@example.com", "https://idp sub-1", "https://idp sid-A", "h1")
			mk("ann@example.com", "https://idp sub-1", "https://idp sid-B", "h2")
			mk("ann@example.com", "https://idp sub-1", "", "h3")
			mk("bob@example.com", "https://idp sub-2", "https://idp sid-C", "h4")
			mk("bob@example.com", "https://idp sub-2", "https://idp sid-D", "h5")
			jexp := time.Now().Add(5 * time.Minute)

			// By sid: only that session.
			out, rule, err := a.BackchannelLogout(ctx, Logout{SID: "https://idp sid-A", JTI: "https://idp j1", JTIExpires: jexp, RequestID: "r1"})
			if err != nil || rule != "sid" || len(out) != 1 || out[0].IDHash != "h1" || out[0].User != "ann@example.com" {
				t.Fatalf("by sid: %+v %q %v", out, rule, err)
			}
			if live("h1") || !live("h2") || !live("h3") {
				t.Fatalf("by sid ended the wrong sessions")
			}
			// The same jti again, through the other handle: a replay, no change.
			if _, _, err := b.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-1", JTI: "https://idp j1", JTIExpires: jexp}); !errors.Is(err, ErrReplay) {
				t.Fatalf("replayed jti: %v", err)
			}
			if !live("h2") || !live("h3") {
				t.Fatalf("a replayed token changed sessions")
			}
			// sid and sub together must both match: bob's sid with ann's sub ends nothing.
			out, _, err = a.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-1", SID: "https://idp sid-C", JTI: "https://idp j2", JTIExpires: jexp})
			if err != nil || len(out) != 0 || !live("h4") {
				t.Fatalf("mismatched sid and sub: %+v %v", out, err)
			}
			// By sub: every live session of that identity, not another's.
			out, rule, err = b.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-1", JTI: "https://idp j3", JTIExpires: jexp})
			hs := []string{}
			for _, o := range out {
				hs = append(hs, o.IDHash)
			}
			slices.Sort(hs)
			if err != nil || rule != "sub" || !slices.Equal(hs, []string{"h2", "h3"}) {
				t.Fatalf("by sub: %v %q %v", hs, rule, err)
			}
			if live("h2") || live("h3") || !live("h4") || !live("h5") {
				t.Fatalf("by sub ended the wrong sessions")
			}
			// Neither sub nor sid, or no jti: refused.
			if _, _, err := a.BackchannelLogout(ctx, Logout{JTI: "x", JTIExpires: jexp}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("no sub or sid: %v", err)
			}
			if _, _, err := a.BackchannelLogout(ctx, Logout{Subject: "s", JTIExpires: jexp}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("no jti: %v", err)
			}
			// A jti past its retention is purged, so the table does not grow.
			if _, _, err := a.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-9", JTI: "old", JTIExpires: time.Now().Add(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := a.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-9", JTI: "new", JTIExpires: jexp}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := a.db.QueryRow(`SELECT COUNT(*) FROM logout_jtis WHERE expires_at < $1`, time.Now().Unix()).Scan(&n); err != nil || n != 0 {
				t.Fatalf("expired jtis kept: %d %v", n, err)
			}
			// Audit: who was logged out and by which rule, in the valid chain.
			var got []string
			if err := a.eachAudit(ctx, func(e *Event) error {
				if e.Action == "sessions.backchannel_logout" {
					rule := e.Detail[strings.Index(e.Detail, "rule="):]
					got = append(got, e.Resource+" "+rule[:strings.Index(rule, " ")]+" "+e.Detail[strings.LastIndex(e.Detail, " ")+1:])
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := []string{"user:ann@example.com rule=sid sessions=1", " rule=sid sessions=0", "user:ann@example.com rule=sub sessions=2",
				" rule=sub sessions=0", " rule=sub sessions=0"}
			if !slices.Equal(got, want) {
				t.Fatalf("audit rows:\n%q\nwant\n%q", got, want)
			}
			if n, problems, err := b.VerifyAudit(ctx); err != nil || len(problems) > 0 || n == 0 {
				t.Fatalf("audit chain: %d %v %v", n, problems, err)
			}
		})
	}
}

// A database written before the back-channel migration keeps its
// sessions; they have no sid, so a logout by sub still ends them.
func TestBackchannelMigrationUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOIDCSession(ctx, OIDCLogin{Name: "ann@example.com", Subject: "https://idp sub-1", IDHash: "h1", FlowHash: "f1",
		Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var v int
	for _, m := range migrations {
		if m.all == backchannelMigration {
			v = m.version
		}
	}
	for _, q := range []string{`DROP INDEX sessions_idp_sid`, `DROP INDEX users_oidc_subject`, `DROP TABLE logout_jtis`,
		`ALTER TABLE sessions DROP COLUMN idp_sid`, `DELETE FROM schema_migrations WHERE version = ` + strconv.Itoa(v)} {
		if err := s.TamperForTest(q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	s = openOpts(t, Options{DataDir: dir})
	if _, _, err := s.LoadSession(ctx, "h1"); err != nil {
		t.Fatalf("session lost in the migration: %v", err)
	}
	out, rule, err := s.BackchannelLogout(ctx, Logout{Subject: "https://idp sub-1", SID: "", JTI: "j", JTIExpires: time.Now().Add(time.Minute)})
	if err != nil || rule != "sub" || len(out) != 1 {
		t.Fatalf("logout by sub of a pre-migration session: %+v %q %v", out, rule, err)
	}
	if _, _, err := s.LoadSession(ctx, "h1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("session still live: %v", err)
	}
}
