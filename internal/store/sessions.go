package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OIDCLogin is a verified OIDC login about to become a browser session.
type OIDCLogin struct {
	Name    string   // store user name, from the configured username claim
	Subject string   // issuer and sub: the identity the user is bound to
	Groups  []string // from the groups claim, already validated
	Admin   bool     // the groups claim named a configured admin group
	// SID is the provider's session id from the ID token ("ISSUER SID"),
	// empty when it sent none; back-channel logout by sid matches it.
	SID string
	// IDHash and FlowHash are keyed hashes of the session id and of the
	// login's state; FlowHash is unique, so one login makes one session.
	IDHash, FlowHash string
	Expires          time.Time
	RequestID, IP    string
}

// Session is a stored browser session.
type Session struct {
	User    string
	Groups  []string // claim groups captured at login
	Admin   bool     // admin by claim
	Created time.Time
	Expires time.Time
}

// ErrSubjectMismatch means a user name is taken by a local user or by an
// OIDC user with a different subject: the login is refused, never merged.
var ErrSubjectMismatch = errors.New("user name is bound to another identity")

// ErrFlowUsed means a login's state was already turned into a session.
var ErrFlowUsed = errors.New("login already completed")

// CreateOIDCSession provisions the user on first login (no password, not
// an admin), checks the name is bound to this subject and enabled, and
// stores the session, all in one transaction with its audit row.
func (s *Store) CreateOIDCSession(ctx context.Context, l OIDCLogin) error {
	if err := ValidName("user", l.Name); err != nil {
		return err
	}
	if l.Subject == "" || l.IDHash == "" || l.FlowHash == "" {
		return fmt.Errorf("%w: session without subject or ids", ErrInvalid)
	}
	now := s.now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var subj string
		var disabled int
		err := tx.QueryRowContext(ctx, `SELECT oidc_subject, disabled FROM users WHERE name = $1`, l.Name).Scan(&subj, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, password_hash, is_admin, disabled, created_at, oidc_subject) VALUES ($1, '', 0, 0, $2, $3)`,
				l.Name, now.Unix(), l.Subject); err != nil {
				if isUnique(err) {
					return fmt.Errorf("user %q: %w", l.Name, ErrSubjectMismatch)
				}
				return fmt.Errorf("provision user %q: %w", l.Name, err)
			}
			if err := s.appendAudit(ctx, tx, Event{Actor: l.Name, Action: "users.provision", Resource: "user:" + l.Name,
				Decision: "allow", RequestID: l.RequestID, Detail: "oidc subject=" + l.Subject}); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("load user %q: %w", l.Name, err)
		case subtle.ConstantTimeCompare([]byte(subj), []byte(l.Subject)) != 1:
			return fmt.Errorf("user %q: %w", l.Name, ErrSubjectMismatch)
		case disabled != 0:
			return fmt.Errorf("user %q is disabled: %w", l.Name, ErrBadCredentials)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, flow_hash, user_name, claim_groups, claim_admin, created_at, expires_at, idp_sid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			l.IDHash, l.FlowHash, l.Name, strings.Join(l.Groups, "\n"), boolInt(l.Admin), now.Unix(), l.Expires.Unix(), l.SID); err != nil {
			if isUnique(err) {
				return ErrFlowUsed
			}
			return fmt.Errorf("create session: %w", err)
		}
		return s.appendAudit(ctx, tx, Event{Actor: l.Name, Action: "sessions.create", Resource: "user:" + l.Name, Decision: "allow",
			RequestID: l.RequestID, Detail: fmt.Sprintf("oidc groups=%s admin_by_claim=%t ip=%s", strings.Join(l.Groups, ","), l.Admin, l.IP)})
	})
}

// LoadSession returns the session and its enabled user. Unknown, revoked
// and expired sessions, and disabled users, are ErrBadCredentials.
func (s *Store) LoadSession(ctx context.Context, idHash string) (*Session, *User, error) {
	var ses Session
	var groups string
	var admin, revoked int
	var created, exp int64
	err := s.db.QueryRowContext(ctx, `SELECT user_name, claim_groups, claim_admin, created_at, expires_at, revoked FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&ses.User, &groups, &admin, &created, &exp, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrBadCredentials
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session lookup: %w", err)
	}
	ses.Created, ses.Expires, ses.Admin = time.Unix(created, 0).UTC(), time.Unix(exp, 0).UTC(), admin != 0
	if groups != "" {
		ses.Groups = strings.Split(groups, "\n")
	}
	if revoked != 0 || !s.now().Before(ses.Expires) {
		return nil, nil, ErrBadCredentials
	}
	u, _, err := s.getUser(ctx, ses.User)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrBadCredentials
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrBadCredentials
	}
	return &ses, u, nil
}

// RevokeSession ends a session (logout). Revoked rows stay until they
// expire so their login state cannot be used a second time.
func (s *Store) RevokeSession(ctx context.Context, actor, idHash, requestID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked = 1 WHERE id_hash = $1 AND revoked = 0`, idHash)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "sessions.revoke", Resource: "user:" + actor, Decision: "allow", RequestID: requestID})
	})
}

// PurgeSessions deletes sessions that expired before t.
func (s *Store) PurgeSessions(ctx context.Context, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, t.Unix()); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	return nil
}
