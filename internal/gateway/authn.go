package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Identity is an authenticated caller.
type Identity struct {
	User   *store.User
	Method string // "basic" or "token"
}

// credCache remembers verified Basic credentials briefly, keyed by an HMAC
// of name and password, so argon2id runs once per login, not per request.
type credCache struct {
	mu  sync.Mutex
	key []byte
	ttl time.Duration
	max int
	m   map[string]credEntry
}

type credEntry struct {
	user string
	exp  time.Time
}

func (c *credCache) keyOf(name, pw string) string {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	return string(h.Sum(nil))
}

func (c *credCache) get(k string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.After(e.exp) {
		delete(c.m, k)
		return "", false
	}
	return e.user, true
}

func (c *credCache) put(k, user string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for kk, e := range c.m {
			if now.After(e.exp) {
				delete(c.m, kk)
			}
		}
		if len(c.m) >= c.max {
			c.m = map[string]credEntry{} // bounded memory beats a warm cache
		}
	}
	c.m[k] = credEntry{user, now.Add(c.ttl)}
}

// throttle counts failed logins per key (user name, client IP) in a window
// and locks the key out for a while after too many.
type throttle struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	lockout time.Duration
	max     int
	m       map[string]*failures
}

type failures struct {
	start  time.Time
	n      int
	locked time.Time
}

func newThrottle(limit int, window, lockout time.Duration) *throttle {
	return &throttle{limit: limit, window: window, lockout: lockout, max: 100000, m: map[string]*failures{}}
}

func (t *throttle) locked(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[key]
	return f != nil && now.Before(f.locked)
}

func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[key]
	if f == nil {
		if len(t.m) >= t.max {
			for k, v := range t.m {
				if now.Sub(v.start) > t.window && now.After(v.locked) {
					delete(t.m, k)
				}
			}
		}
		f = &failures{start: now}
		t.m[key] = f
	}
	if now.Sub(f.start) > t.window {
		f.start, f.n = now, 0
	}
	f.n++
	if f.n >= t.limit {
		f.locked = now.Add(t.lockout)
		f.start, f.n = now, 0
	}
}

var errLocked = errors.New("too many failed logins")

// authenticate reads the Authorization header. It returns (nil, nil) when
// there is none.
func (g *Gateway) authenticate(ctx context.Context, authz, ip string) (*Identity, error) {
	if authz == "" {
		return nil, nil
	}
	scheme, cred, ok := strings.Cut(authz, " ")
	if !ok {
		return nil, store.ErrBadCredentials
	}
	cred = strings.TrimSpace(cred)
	now := g.now()
	switch strings.ToLower(scheme) {
	case "bearer":
		if g.throttle.locked("ip:"+ip, now) {
			return nil, errLocked
		}
		ck := "tok:" + g.store.TokenHash(cred)
		if u, hit := g.users.get(ck, now); hit {
			return &Identity{User: u, Method: "token"}, nil
		}
		u, _, err := g.store.CheckToken(ctx, cred)
		if err == nil {
			g.users.put(ck, u, now)
		}
		if errors.Is(err, store.ErrBadCredentials) {
			g.throttle.fail("ip:"+ip, now)
		}
		if err != nil {
			return nil, err
		}
		return &Identity{User: u, Method: "token"}, nil
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, store.ErrBadCredentials
		}
		name, pw, ok := strings.Cut(string(raw), ":")
		if !ok || name == "" {
			return nil, store.ErrBadCredentials
		}
		// MLflow's client sends a token as the Basic password too when a
		// user sets MLFLOW_TRACKING_PASSWORD to one; accept it only for
		// the token's own user.
		ck := g.creds.keyOf(name, pw)
		if user, hit := g.creds.get(ck, now); hit {
			if u, hit := g.users.get("user:"+user, now); hit {
				return &Identity{User: u, Method: "basic"}, nil
			}
			u, err := g.store.LoadUser(ctx, user)
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return nil, store.ErrBadCredentials
				}
				return nil, err
			}
			if u.Disabled {
				return nil, store.ErrBadCredentials
			}
			g.users.put("user:"+user, u, now)
			return &Identity{User: u, Method: "basic"}, nil
		}
		if g.throttle.locked("ip:"+ip, now) || g.throttle.locked("user:"+name, now) {
			return nil, errLocked
		}
		var u *store.User
		if strings.HasPrefix(pw, store.TokenPrefix) {
			var tu *store.User
			tu, _, err = g.store.CheckToken(ctx, pw)
			if err == nil && tu.Name != name {
				err = store.ErrBadCredentials
			}
			u = tu
		} else {
			u, err = g.store.CheckLogin(ctx, name, pw)
		}
		if errors.Is(err, store.ErrBadCredentials) {
			g.throttle.fail("ip:"+ip, now)
			g.throttle.fail("user:"+name, now)
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(pw, store.TokenPrefix) {
			g.creds.put(ck, u.Name, now)
		}
		return &Identity{User: u, Method: "basic"}, nil
	}
	return nil, store.ErrBadCredentials
}
