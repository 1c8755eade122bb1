package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// User is a gateway account.
type User struct {
	Name      string
	Admin     bool
	Disabled  bool
	CreatedAt time.Time
	Groups    []string
}

// Token is an API token's metadata; the secret itself is never stored.
type Token struct {
	ID          string
	User        string
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
	Revoked     bool
	LastUsed    time.Time // zero: never
}

// TokenPrefix starts every API token so secret scanners can recognise one.
const TokenPrefix = "mlg_"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)

// ValidName checks a user or group name: no colon (Basic auth splits on
// it), no spaces or control characters.
func ValidName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %s name %q: use 1-128 letters, digits and . _ @ + -", ErrInvalid, kind, name)
	}
	return nil
}

func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "unique") || strings.Contains(m, "duplicate key") || strings.Contains(m, "primary key")
}

// CreateUser adds a user with an argon2id password hash.
func (s *Store) CreateUser(ctx context.Context, actor, name, password string, admin bool) error {
	if err := ValidName("user", name); err != nil {
		return err
	}
	if len(password) < MinPasswordLen {
		return fmt.Errorf("%w: password shorter than %d characters", ErrInvalid, MinPasswordLen)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, password_hash, is_admin, disabled, created_at) VALUES ($1, $2, $3, 0, $4)`,
			name, h, boolInt(admin), s.now().Unix()); err != nil {
			if isUnique(err) {
				return fmt.Errorf("user %q: %w", name, ErrExists)
			}
			return fmt.Errorf("create user %q: %w", name, err)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "users.create", Resource: "user:" + name,
			Decision: "allow", Detail: fmt.Sprintf("admin=%t", admin)})
	})
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(ctx context.Context, actor, name, password string) error {
	if len(password) < MinPasswordLen {
		return fmt.Errorf("%w: password shorter than %d characters", ErrInvalid, MinPasswordLen)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, actor, name, "users.passwd", "", `UPDATE users SET password_hash = $1 WHERE name = $2`, h, name)
}

// SetDisabled disables (or re-enables) a user; a disabled user's tokens and
// passwords stop working at once.
func (s *Store) SetDisabled(ctx context.Context, actor, name string, disabled bool) error {
	return s.updateUser(ctx, actor, name, "users.disable", fmt.Sprintf("disabled=%t", disabled),
		`UPDATE users SET disabled = $1 WHERE name = $2`, boolInt(disabled), name)
}

func (s *Store) updateUser(ctx context.Context, actor, name, action, detail, q string, args ...any) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("%s %q: %w", action, name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: action, Resource: "user:" + name, Decision: "allow", Detail: detail})
	})
}

// ListUsers returns every user with their groups, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, is_admin, disabled, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var a, d int
		var c int64
		if err := rows.Scan(&u.Name, &a, &d, &c); err != nil {
			return nil, err
		}
		u.Admin, u.Disabled, u.CreatedAt = a != 0, d != 0, time.Unix(c, 0).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		g, err := s.userGroups(ctx, out[i].Name)
		if err != nil {
			return nil, err
		}
		out[i].Groups = g
	}
	return out, nil
}

func (s *Store) userGroups(ctx context.Context, name string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_name FROM memberships WHERE user_name = $1 ORDER BY group_name`, name)
	if err != nil {
		return nil, fmt.Errorf("groups of %q: %w", name, err)
	}
	defer rows.Close()
	var g []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		g = append(g, n)
	}
	return g, rows.Err()
}

// getUser loads an enabled-or-not user with groups; ErrNotFound if absent.
func (s *Store) getUser(ctx context.Context, name string) (*User, string, error) {
	var u User
	var h string
	var a, d int
	var c int64
	err := s.db.QueryRowContext(ctx, `SELECT name, password_hash, is_admin, disabled, created_at FROM users WHERE name = $1`, name).
		Scan(&u.Name, &h, &a, &d, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("load user: %w", err)
	}
	u.Admin, u.Disabled, u.CreatedAt = a != 0, d != 0, time.Unix(c, 0).UTC()
	if u.Groups, err = s.userGroups(ctx, name); err != nil {
		return nil, "", err
	}
	return &u, h, nil
}

// ErrBadCredentials means the name, password or token did not verify; it
// never says which.
var ErrBadCredentials = errors.New("bad credentials")

// CheckLogin verifies a password. Unknown and disabled users cost the same
// argon2id work as real ones and give the same error.
func (s *Store) CheckLogin(ctx context.Context, name, password string) (*User, error) {
	u, h, err := s.getUser(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if u == nil {
		CheckPassword(dummyHash, password)
		return nil, ErrBadCredentials
	}
	if h == "" {
		// OIDC-provisioned: no password; same cost as a wrong one.
		CheckPassword(dummyHash, password)
		return nil, ErrBadCredentials
	}
	ok := CheckPassword(h, password)
	if !ok || u.Disabled {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// TokenHash is the keyed hash a token is stored and looked up by.
func (s *Store) TokenHash(token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

var tokenEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// CreateToken issues a token for user; the plaintext is returned once and
// only its keyed hash is kept. ttl 0 means no expiry.
func (s *Store) CreateToken(ctx context.Context, actor, user, description string, ttl time.Duration) (string, Token, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, err
	}
	idb := make([]byte, 6)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, err
	}
	plain := TokenPrefix + strings.ToLower(tokenEnc.EncodeToString(raw))
	t := Token{ID: hex.EncodeToString(idb), User: user, Description: description, CreatedAt: s.now().UTC().Truncate(time.Second)}
	var exp int64
	if ttl > 0 {
		t.ExpiresAt = t.CreatedAt.Add(ttl)
		exp = t.ExpiresAt.Unix()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE name = $1`, user).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %q: %w", user, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, user_name, hash, description, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, user, s.TokenHash(plain), description, t.CreatedAt.Unix(), exp); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "tokens.create", Resource: "token:" + t.ID,
			Decision: "allow", Detail: "user=" + user})
	})
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// CheckToken resolves a presented token to its enabled user. Expired,
// revoked and unknown tokens all give ErrBadCredentials. last_used is
// written at most once a minute per token.
func (s *Store) CheckToken(ctx context.Context, token string) (*User, *Token, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 200 {
		return nil, nil, ErrBadCredentials
	}
	h := s.TokenHash(token)
	var t Token
	var stored string
	var created, exp, last int64
	var rev int
	err := s.db.QueryRowContext(ctx, `SELECT id, user_name, hash, description, created_at, expires_at, revoked, last_used FROM tokens WHERE hash = $1`, h).
		Scan(&t.ID, &t.User, &stored, &t.Description, &created, &exp, &rev, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrBadCredentials
	}
	if err != nil {
		return nil, nil, fmt.Errorf("token lookup: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) != 1 {
		return nil, nil, ErrBadCredentials
	}
	now := s.now()
	t.CreatedAt, t.Revoked = time.Unix(created, 0).UTC(), rev != 0
	if exp != 0 {
		t.ExpiresAt = time.Unix(exp, 0).UTC()
	}
	if t.Revoked || (exp != 0 && now.Unix() >= exp) {
		return nil, nil, ErrBadCredentials
	}
	u, _, err := s.getUser(ctx, t.User)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, ErrBadCredentials
		}
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrBadCredentials
	}
	if now.Unix()-last >= 60 {
		if _, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used = $1 WHERE id = $2`, now.Unix(), t.ID); err != nil {
			return nil, nil, fmt.Errorf("token last-used: %w", err)
		}
		last = now.Unix()
	}
	t.LastUsed = time.Unix(last, 0).UTC()
	return u, &t, nil
}

// ListTokens lists tokens (of one user, or all when user is empty).
func (s *Store) ListTokens(ctx context.Context, user string) ([]Token, error) {
	q := `SELECT id, user_name, description, created_at, expires_at, revoked, last_used FROM tokens`
	var args []any
	if user != "" {
		q += ` WHERE user_name = $1`
		args = append(args, user)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var c, e, l int64
		var r int
		if err := rows.Scan(&t.ID, &t.User, &t.Description, &c, &e, &r, &l); err != nil {
			return nil, err
		}
		t.CreatedAt, t.Revoked = time.Unix(c, 0).UTC(), r != 0
		if e != 0 {
			t.ExpiresAt = time.Unix(e, 0).UTC()
		}
		if l != 0 {
			t.LastUsed = time.Unix(l, 0).UTC()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, actor, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %q: %w", id, ErrNotFound)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "tokens.revoke", Resource: "token:" + id, Decision: "allow"})
	})
}
