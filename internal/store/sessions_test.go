package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// Sessions on both backends; on PostgreSQL through two Store handles, as
// two gateway replicas share them.
func TestOIDCSessions(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			a := open(t)
			b := a
			if name == "postgres" {
				b = openOpts(t, a.opts)
			}
			ctx := context.Background()
			exp := time.Now().Add(time.Hour)
			login := OIDCLogin{Name: "ann@example.com", Subject: "https://idp sub-1", Groups: []string{"ml-team", "ops"},
				IDHash: "h1", FlowHash: "f1", Expires: exp}
			if err := a.CreateOIDCSession(ctx, login); err != nil {
				t.Fatal(err)
			}
			ses, u, err := b.LoadSession(ctx, "h1")
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "ann@example.com" || u.Admin || !slices.Equal(ses.Groups, []string{"ml-team", "ops"}) || ses.Admin {
				t.Fatalf("session %+v user %+v", ses, u)
			}
			// The provisioned user has no password.
			if _, err := b.CheckLogin(ctx, "ann@example.com", ""); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("password login of an OIDC user: %v", err)
			}
			// One login state, one session.
			again := login
			again.IDHash = "h2"
			if err := b.CreateOIDCSession(ctx, again); !errors.Is(err, ErrFlowUsed) {
				t.Fatalf("flow used twice: %v", err)
			}
			// Same name, another subject; a local user's name.
			other := login
			other.Subject, other.IDHash, other.FlowHash = "https://idp sub-2", "h3", "f3"
			if err := a.CreateOIDCSession(ctx, other); !errors.Is(err, ErrSubjectMismatch) {
				t.Fatalf("other subject: %v", err)
			}
			if err := a.CreateUser(ctx, "test", "local", "local password 12", true); err != nil {
				t.Fatal(err)
			}
			other.Name, other.Subject = "local", "https://idp sub-1"
			if err := a.CreateOIDCSession(ctx, other); !errors.Is(err, ErrSubjectMismatch) {
				t.Fatalf("local user's name: %v", err)
			}
			// A second login of the same identity.
			second := login
			second.IDHash, second.FlowHash = "h4", "f4"
			if err := b.CreateOIDCSession(ctx, second); err != nil {
				t.Fatal(err)
			}
			// Logout on one replica is seen by the other.
			if err := b.RevokeSession(ctx, "ann@example.com", "h1", "req"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := a.LoadSession(ctx, "h1"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("revoked session: %v", err)
			}
			if err := b.RevokeSession(ctx, "ann@example.com", "h1", "req"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("revoke twice: %v", err)
			}
			// Disabled users and expired sessions.
			if err := a.SetDisabled(ctx, "test", "ann@example.com", true); err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.LoadSession(ctx, "h4"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("disabled user's session: %v", err)
			}
			third := login
			third.IDHash, third.FlowHash = "h5", "f5"
			if err := a.CreateOIDCSession(ctx, third); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("login of a disabled user: %v", err)
			}
			if err := a.SetDisabled(ctx, "test", "ann@example.com", false); err != nil {
				t.Fatal(err)
			}
			b.now = func() time.Time { return exp.Add(time.Second) }
			if _, _, err := b.LoadSession(ctx, "h4"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("expired session: %v", err)
			}
			if _, _, err := b.LoadSession(ctx, "nope"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("unknown session: %v", err)
			}
			if err := a.PurgeSessions(ctx, exp.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			b.now = time.Now
			if _, _, err := b.LoadSession(ctx, "h4"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("purged session: %v", err)
			}
			// Every change is in the audit chain, and the chain holds.
			n, problems, err := a.VerifyAudit(ctx)
			if err != nil || len(problems) > 0 || n < 4 {
				t.Fatalf("audit: %d rows, %v, %v", n, problems, err)
			}
		})
	}
}
