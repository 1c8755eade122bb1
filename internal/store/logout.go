package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// backchannelMigration records the provider's session id (sid) of each
// browser session, so a back-channel logout token naming a sid ends
// exactly the sessions it created, and keeps the ids (jti) of logout
// tokens already used, shared by every replica, until they could no longer
// be accepted anyway.
const backchannelMigration = `ALTER TABLE sessions ADD COLUMN idp_sid TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_idp_sid ON sessions (idp_sid);
CREATE INDEX users_oidc_subject ON users (oidc_subject);
CREATE TABLE logout_jtis (
  jti_hash TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE INDEX logout_jtis_expiry ON logout_jtis (expires_at)`

// ErrReplay means a logout token's jti was already used.
var ErrReplay = errors.New("logout token already used")

// Logout is a verified back-channel logout token. Subject and SID are
// scoped by the issuer the way OIDCLogin.Subject is ("ISSUER SUB",
// "ISSUER SID"); at least one is set.
type Logout struct {
	Subject, SID string
	// JTI is the token id with its issuer; JTIExpires is when the token
	// could no longer be accepted, the time its jti may be forgotten.
	JTI        string
	JTIExpires time.Time
	Route      string // for the audit rows
	RequestID  string
	IP         string
}

// LoggedOut is one session a logout ended.
type LoggedOut struct {
	User   string
	IDHash string // the session's keyed id hash, for a replica's cache
}

// BackchannelLogout records the token's jti (ErrReplay when it is known),
// revokes every live session it names and writes one audit row per user
// logged out (or one saying none was), all in one transaction. Rule is
// "sid" when the sid chose the sessions (and the subject too when both
// were given), "sub" when only the subject did.
func (s *Store) BackchannelLogout(ctx context.Context, l Logout) (out []LoggedOut, rule string, err error) {
	if l.JTI == "" || (l.Subject == "" && l.SID == "") {
		return nil, "", fmt.Errorf("%w: logout without jti, or without subject and sid", ErrInvalid)
	}
	now := s.now()
	sum := sha256.Sum256([]byte(l.JTI))
	jti := hex.EncodeToString(sum[:])
	var q string
	var args []any
	switch {
	case l.SID != "" && l.Subject != "":
		rule = "sid"
		q = `UPDATE sessions SET revoked = 1 WHERE revoked = 0 AND expires_at > $1 AND idp_sid = $2 AND user_name IN (SELECT name FROM users WHERE oidc_subject = $3) RETURNING id_hash, user_name`
		args = []any{now.Unix(), l.SID, l.Subject}
	case l.SID != "":
		rule = "sid"
		q = `UPDATE sessions SET revoked = 1 WHERE revoked = 0 AND expires_at > $1 AND idp_sid = $2 RETURNING id_hash, user_name`
		args = []any{now.Unix(), l.SID}
	default:
		rule = "sub"
		q = `UPDATE sessions SET revoked = 1 WHERE revoked = 0 AND expires_at > $1 AND user_name IN (SELECT name FROM users WHERE oidc_subject = $2) RETURNING id_hash, user_name`
		args = []any{now.Unix(), l.Subject}
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		if _, err := tx.ExecContext(ctx, `DELETE FROM logout_jtis WHERE expires_at < $1`, now.Unix()); err != nil {
			return fmt.Errorf("purge logout token ids: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO logout_jtis (jti_hash, expires_at) VALUES ($1, $2) ON CONFLICT (jti_hash) DO NOTHING`, jti, l.JTIExpires.Unix())
		if err != nil {
			return fmt.Errorf("record logout token id: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrReplay
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		per := map[string]int{}
		var users []string
		for rows.Next() {
			var o LoggedOut
			if err := rows.Scan(&o.IDHash, &o.User); err != nil {
				rows.Close()
				return fmt.Errorf("revoke sessions: %w", err)
			}
			out = append(out, o)
			if per[o.User] == 0 {
				users = append(users, o.User)
			}
			per[o.User]++
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("revoke sessions: %w", err)
		}
		rows.Close()
		base := fmt.Sprintf("oidc back-channel logout rule=%s sub=%q sid=%q jti_sha256=%s ip=%s", rule, l.Subject, l.SID, jti[:16], l.IP)
		if len(users) == 0 {
			return s.appendAudit(ctx, tx, Event{Actor: "oidc-provider", Action: "sessions.backchannel_logout", Route: l.Route, Decision: "allow",
				RequestID: l.RequestID, Detail: base + " sessions=0"})
		}
		for _, u := range users {
			if err := s.appendAudit(ctx, tx, Event{Actor: "oidc-provider", Action: "sessions.backchannel_logout", Route: l.Route, Resource: "user:" + u,
				Decision: "allow", RequestID: l.RequestID, Detail: fmt.Sprintf("%s sessions=%d", base, per[u])}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, rule, nil
}
