package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// approvalsMigration holds the four-eyes requests. One row per request;
// its status only moves forward (pending -> approved|rejected, approved
// -> promoting -> consumed, promoting -> approved when the upstream
// refused the promotion).
const approvalsMigration = `CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  target TEXT NOT NULL,
  digest TEXT NOT NULL,
  verdict TEXT NOT NULL,
  findings TEXT NOT NULL,
  requester TEXT NOT NULL,
  requested_at BIGINT NOT NULL,
  ttl_seconds BIGINT NOT NULL,
  status TEXT NOT NULL,
  approver TEXT NOT NULL DEFAULT '',
  decided_at BIGINT NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  expires_at BIGINT NOT NULL DEFAULT 0,
  record TEXT NOT NULL DEFAULT '',
  promoted_by TEXT NOT NULL DEFAULT '',
  promoted_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX approvals_target ON approvals (model, version, target, status)`

// Approval statuses.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalRejected  = "rejected"
	ApprovalPromoting = "promoting" // claimed by a promotion in flight
	ApprovalConsumed  = "consumed"
)

// ErrConflict means the row was not in the state the change expects (a
// second decision, a promotion racing another).
var ErrConflict = errors.New("approval is not in the expected state")

// Approval is one four-eyes request and its outcome.
type Approval struct {
	ID          string        `json:"id"`
	Model       string        `json:"model"`
	Version     string        `json:"version"`
	Target      string        `json:"target"`
	Digest      string        `json:"digest"`
	Verdict     string        `json:"verdict"`
	Findings    string        `json:"findings"`
	Requester   string        `json:"requester"`
	RequestedAt time.Time     `json:"requested_at"`
	TTL         time.Duration `json:"-"`
	Status      string        `json:"status"`
	Approver    string        `json:"approver,omitempty"`
	DecidedAt   time.Time     `json:"decided_at,omitzero"`
	Reason      string        `json:"reason,omitempty"`
	ExpiresAt   time.Time     `json:"expires_at,omitzero"`
	Record      string        `json:"record,omitempty"` // signed approval.Record (approval.Encode)
	PromotedBy  string        `json:"promoted_by,omitempty"`
	PromotedAt  time.Time     `json:"promoted_at,omitzero"`
}

// Expired reports whether an approved row's window has closed.
func (a *Approval) Expired(now time.Time) bool {
	return a.Status == ApprovalApproved && !now.Before(a.ExpiresAt)
}

const approvalCols = `id, model, version, target, digest, verdict, findings, requester, requested_at, ttl_seconds, status,
approver, decided_at, reason, expires_at, record, promoted_by, promoted_at`

func unixOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

func scanApproval(sc interface{ Scan(...any) error }) (*Approval, error) {
	var a Approval
	var req, ttl, dec, exp, prom int64
	if err := sc.Scan(&a.ID, &a.Model, &a.Version, &a.Target, &a.Digest, &a.Verdict, &a.Findings, &a.Requester, &req, &ttl,
		&a.Status, &a.Approver, &dec, &a.Reason, &exp, &a.Record, &a.PromotedBy, &prom); err != nil {
		return nil, err
	}
	a.RequestedAt, a.TTL = unixOrZero(req), time.Duration(ttl)*time.Second
	a.DecidedAt, a.ExpiresAt, a.PromotedAt = unixOrZero(dec), unixOrZero(exp), unixOrZero(prom)
	return &a, nil
}

// CreateApproval records a new pending request (ID and status are set
// here) and its audit row in one transaction.
func (s *Store) CreateApproval(ctx context.Context, a *Approval, ev Event) error {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	a.ID = hex.EncodeToString(b)
	a.Status = ApprovalPending
	if a.RequestedAt.IsZero() {
		a.RequestedAt = s.now().UTC().Truncate(time.Second)
	}
	ev.Resource = approvalResource(a)
	ev.Detail = strings.TrimSpace("id=" + a.ID + " digest=" + a.Digest + " verdict=" + a.Verdict + " " + ev.Detail)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO approvals (id, model, version, target, digest, verdict, findings, requester, requested_at, ttl_seconds, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, a.ID, a.Model, a.Version, a.Target, a.Digest, a.Verdict, a.Findings,
			a.Requester, a.RequestedAt.Unix(), int64(a.TTL/time.Second), a.Status); err != nil {
			return fmt.Errorf("create approval: %w", err)
		}
		return s.appendAudit(ctx, tx, ev)
	})
}

func approvalResource(a *Approval) string {
	return "registered_model:" + a.Model + " version:" + a.Version + " target:" + a.Target
}

// GetApproval reads one request.
func (s *Store) GetApproval(ctx context.Context, id string) (*Approval, error) {
	a, err := scanApproval(s.db.QueryRowContext(ctx, `SELECT `+approvalCols+` FROM approvals WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("approval %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read approval %q: %w", id, err)
	}
	return a, nil
}

// ListApprovals returns requests with one of statuses (all when empty),
// newest first, at most limit.
func (s *Store) ListApprovals(ctx context.Context, statuses []string, limit int) ([]*Approval, error) {
	q := `SELECT ` + approvalCols + ` FROM approvals`
	var args []any
	if len(statuses) > 0 {
		ph := make([]string, len(statuses))
		for i, st := range statuses {
			ph[i] = fmt.Sprintf("$%d", i+1)
			args = append(args, st)
		}
		q += ` WHERE status IN (` + strings.Join(ph, ", ") + `)`
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY requested_at DESC, id LIMIT $%d`, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	defer rows.Close()
	var out []*Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("list approvals: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DecideApproval moves a pending request to approved (with the signed
// record and expiry) or rejected, with its audit row. A request that is no
// longer pending is ErrConflict.
func (s *Store) DecideApproval(ctx context.Context, a *Approval, ev Event) error {
	if a.Status != ApprovalApproved && a.Status != ApprovalRejected {
		return fmt.Errorf("%w: decision %q", ErrInvalid, a.Status)
	}
	ev.Resource = approvalResource(a)
	ev.Detail = strings.TrimSpace("id=" + a.ID + " decision=" + a.Status + " digest=" + a.Digest + " " + ev.Detail)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET status = $1, approver = $2, decided_at = $3, reason = $4, expires_at = $5, record = $6
WHERE id = $7 AND status = $8`, a.Status, a.Approver, a.DecidedAt.Unix(), a.Reason, unixOrNil(a.ExpiresAt), a.Record, a.ID, ApprovalPending)
		if err != nil {
			return fmt.Errorf("decide approval: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("approval %s: %w (not pending)", a.ID, ErrConflict)
		}
		return s.appendAudit(ctx, tx, ev)
	})
}

func unixOrNil(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// FindApproved returns the newest approved, unexpired request for exactly
// this model, version and target (nil when there is none).
func (s *Store) FindApproved(ctx context.Context, model, version, target string, now time.Time) (*Approval, error) {
	a, err := scanApproval(s.db.QueryRowContext(ctx, `SELECT `+approvalCols+` FROM approvals
WHERE model = $1 AND version = $2 AND target = $3 AND status = $4 AND expires_at > $5 ORDER BY decided_at DESC, id LIMIT 1`,
		model, version, target, ApprovalApproved, now.Unix()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find approval: %w", err)
	}
	return a, nil
}

// ClaimApproval moves an approved request to promoting, so one approval
// serves one promotion even when two race; ErrConflict when another got it.
func (s *Store) ClaimApproval(ctx context.Context, id string) error {
	return s.move(ctx, id, ApprovalApproved, ApprovalPromoting)
}

// ReleaseApproval gives a claimed approval back when the promotion failed.
func (s *Store) ReleaseApproval(ctx context.Context, id string) error {
	return s.move(ctx, id, ApprovalPromoting, ApprovalApproved)
}

func (s *Store) move(ctx context.Context, id, from, to string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE approvals SET status = $1 WHERE id = $2 AND status = $3`, to, id, from)
	if err != nil {
		return fmt.Errorf("approval %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("approval %s: %w (not %s)", id, ErrConflict, from)
	}
	return nil
}

// ConsumeApproval marks a claimed approval used by the promotion, with the
// re-signed record, in one transaction with its audit row.
func (s *Store) ConsumeApproval(ctx context.Context, a *Approval, ev Event) error {
	ev.Resource = approvalResource(a)
	ev.Detail = strings.TrimSpace("id=" + a.ID + " digest=" + a.Digest + " approver=" + a.Approver + " " + ev.Detail)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET status = $1, record = $2, promoted_by = $3, promoted_at = $4 WHERE id = $5 AND status = $6`,
			ApprovalConsumed, a.Record, a.PromotedBy, a.PromotedAt.Unix(), a.ID, ApprovalPromoting)
		if err != nil {
			return fmt.Errorf("consume approval: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("approval %s: %w (not promoting)", a.ID, ErrConflict)
		}
		return s.appendAudit(ctx, tx, ev)
	})
}

// LatestApproval returns the newest request of any status for this model,
// version and target (nil when there is none): it explains a denial.
func (s *Store) LatestApproval(ctx context.Context, model, version, target string) (*Approval, error) {
	a, err := scanApproval(s.db.QueryRowContext(ctx, `SELECT `+approvalCols+` FROM approvals
WHERE model = $1 AND version = $2 AND target = $3 ORDER BY requested_at DESC, decided_at DESC, id LIMIT 1`, model, version, target))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find approval: %w", err)
	}
	return a, nil
}
