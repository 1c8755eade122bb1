package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Permission levels, each including the ones below it.
type Permission int

// The levels. None is the default for every resource.
const (
	None Permission = iota
	Read
	Use
	Edit
	Manage
)

var permNames = []string{"NONE", "READ", "USE", "EDIT", "MANAGE"}

func (p Permission) String() string {
	if p < 0 || int(p) >= len(permNames) {
		return "NONE"
	}
	return permNames[p]
}

// ParsePermission reads READ, USE, EDIT or MANAGE (any case).
func ParsePermission(s string) (Permission, error) {
	for i, n := range permNames[1:] {
		if strings.EqualFold(s, n) {
			return Permission(i + 1), nil
		}
	}
	return None, fmt.Errorf("%w: permission %q (want READ, USE, EDIT or MANAGE)", ErrInvalid, s)
}

// Resource kinds a grant can name.
var ResourceKinds = []string{"experiment", "registered_model", "logged_model", "trace", "webhook", "gateway_endpoint"}

func validKind(k string) error {
	for _, v := range ResourceKinds {
		if v == k {
			return nil
		}
	}
	return fmt.Errorf("%w: resource kind %q (want one of %s)", ErrInvalid, k, strings.Join(ResourceKinds, ", "))
}

// Principal is a user or a group.
type Principal struct {
	Kind string // "user" or "group"
	Name string
}

// ParsePrincipal reads "user:NAME" or "group:NAME"; a bare name is a user.
func ParsePrincipal(s string) (Principal, error) {
	k, n, ok := strings.Cut(s, ":")
	if !ok {
		k, n = "user", s
	}
	if k != "user" && k != "group" {
		return Principal{}, fmt.Errorf("%w: principal %q (want user:NAME or group:NAME)", ErrInvalid, s)
	}
	if err := ValidName(k, n); err != nil {
		return Principal{}, err
	}
	return Principal{k, n}, nil
}

func (p Principal) String() string { return p.Kind + ":" + p.Name }

// Grant gives a principal a permission on one resource.
type Grant struct {
	Principal    Principal
	ResourceKind string
	ResourceID   string
	Permission   Permission
}

// CreateGroup adds an empty group.
func (s *Store) CreateGroup(ctx context.Context, actor, name string) error {
	if err := ValidName("group", name); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO groups (name, created_at) VALUES ($1, $2)`, name, s.now().Unix()); err != nil {
			if isUnique(err) {
				return fmt.Errorf("group %q: %w", name, ErrExists)
			}
			return fmt.Errorf("create group: %w", err)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "groups.create", Resource: "group:" + name, Decision: "allow"})
	})
}

// SetMember adds (in=true) or removes a user from a group.
func (s *Store) SetMember(ctx context.Context, actor, group, user string, in bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM groups WHERE name = $1) + 10 * (SELECT COUNT(*) FROM users WHERE name = $2)`, group, user).Scan(&n); err != nil {
			return err
		}
		if n%10 == 0 {
			return fmt.Errorf("group %q: %w", group, ErrNotFound)
		}
		if n < 10 {
			return fmt.Errorf("user %q: %w", user, ErrNotFound)
		}
		action := "groups.add"
		var err error
		if in {
			_, err = tx.ExecContext(ctx, `INSERT INTO memberships (group_name, user_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, group, user)
		} else {
			action = "groups.remove"
			var res sql.Result
			res, err = tx.ExecContext(ctx, `DELETE FROM memberships WHERE group_name = $1 AND user_name = $2`, group, user)
			if err == nil {
				if k, _ := res.RowsAffected(); k == 0 {
					return fmt.Errorf("user %q in group %q: %w", user, group, ErrNotFound)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: action, Resource: "group:" + group, Decision: "allow", Detail: "user=" + user})
	})
}

// GroupMembers maps each group to its members.
func (s *Store) GroupMembers(ctx context.Context) (map[string][]string, []string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.name, COALESCE(m.user_name, '') FROM groups g LEFT JOIN memberships m ON m.group_name = g.name ORDER BY g.name, m.user_name`)
	if err != nil {
		return nil, nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	var order []string
	for rows.Next() {
		var g, u string
		if err := rows.Scan(&g, &u); err != nil {
			return nil, nil, err
		}
		if _, ok := out[g]; !ok {
			order = append(order, g)
			out[g] = nil
		}
		if u != "" {
			out[g] = append(out[g], u)
		}
	}
	return out, order, rows.Err()
}

// AddGrant sets a principal's permission on a resource (replacing any
// earlier one). The audit event may carry the request that caused it.
func (s *Store) AddGrant(ctx context.Context, actor string, g Grant, ev *Event) error {
	if err := validKind(g.ResourceKind); err != nil {
		return err
	}
	if g.ResourceID == "" || len(g.ResourceID) > 512 {
		return fmt.Errorf("%w: resource id must be 1-512 bytes", ErrInvalid)
	}
	if g.Permission <= None || g.Permission > Manage {
		return fmt.Errorf("%w: permission", ErrInvalid)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO grants (principal_kind, principal, resource_kind, resource_id, permission, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (principal_kind, principal, resource_kind, resource_id) DO UPDATE SET permission = excluded.permission`,
			g.Principal.Kind, g.Principal.Name, g.ResourceKind, g.ResourceID, g.Permission.String(), s.now().Unix()); err != nil {
			return fmt.Errorf("add grant: %w", err)
		}
		e := Event{}
		if ev != nil {
			e = *ev
		}
		e.Actor, e.Action, e.Decision = actor, "grants.add", "allow"
		e.Resource = g.ResourceKind + ":" + g.ResourceID
		e.Detail = g.Principal.String() + " " + g.Permission.String()
		return s.appendAudit(ctx, tx, e)
	})
}

// RemoveGrant deletes a principal's grant on a resource.
func (s *Store) RemoveGrant(ctx context.Context, actor string, p Principal, kind, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE principal_kind = $1 AND principal = $2 AND resource_kind = $3 AND resource_id = $4`,
			p.Kind, p.Name, kind, id)
		if err != nil {
			return fmt.Errorf("remove grant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("grant for %s on %s:%s: %w", p, kind, id, ErrNotFound)
		}
		return s.appendAudit(ctx, tx, Event{Actor: actor, Action: "grants.remove", Resource: kind + ":" + id, Decision: "allow", Detail: p.String()})
	})
}

// ListGrants lists grants, optionally for one principal.
func (s *Store) ListGrants(ctx context.Context, p *Principal) ([]Grant, error) {
	q := `SELECT principal_kind, principal, resource_kind, resource_id, permission FROM grants`
	var args []any
	if p != nil {
		q += ` WHERE principal_kind = $1 AND principal = $2`
		args = []any{p.Kind, p.Name}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY principal_kind, principal, resource_kind, resource_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var perm string
		if err := rows.Scan(&g.Principal.Kind, &g.Principal.Name, &g.ResourceKind, &g.ResourceID, &perm); err != nil {
			return nil, err
		}
		g.Permission, _ = ParsePermission(perm)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Permissions returns, for each resource id of a kind that the user or one
// of its groups has a grant on, the highest permission. ids nil means all.
func (s *Store) Permissions(ctx context.Context, u *User, kind string, ids []string) (map[string]Permission, error) {
	var b strings.Builder
	b.WriteString(`SELECT resource_id, permission FROM grants WHERE resource_kind = $1 AND ((principal_kind = 'user' AND principal = $2)`)
	args := []any{kind, u.Name}
	for _, g := range u.Groups {
		args = append(args, g)
		fmt.Fprintf(&b, ` OR (principal_kind = 'group' AND principal = $%d)`, len(args))
	}
	b.WriteString(`)`)
	if ids != nil {
		if len(ids) == 0 {
			return map[string]Permission{}, nil
		}
		b.WriteString(` AND resource_id IN (`)
		for i, id := range ids {
			args = append(args, id)
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", len(args))
		}
		b.WriteString(`)`)
	}
	rows, err := s.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	defer rows.Close()
	out := map[string]Permission{}
	for rows.Next() {
		var id, perm string
		if err := rows.Scan(&id, &perm); err != nil {
			return nil, err
		}
		p, err := ParsePermission(perm)
		if err != nil {
			return nil, fmt.Errorf("grant on %s:%s: %w", kind, id, err)
		}
		if p > out[id] {
			out[id] = p
		}
	}
	return out, rows.Err()
}

// LoadUser returns a user with groups (for a cached session refresh).
func (s *Store) LoadUser(ctx context.Context, name string) (*User, error) {
	u, _, err := s.getUser(ctx, name)
	return u, err
}
