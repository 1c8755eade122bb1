package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Event is one audit record: who did what to which resource, and the
// gateway's decision.
type Event struct {
	Seq       int64  `json:"seq"`
	Time      int64  `json:"ts"` // Unix nanoseconds
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	Route     string `json:"route"`
	Resource  string `json:"resource"`
	Decision  string `json:"decision"`
	Rule      string `json:"rule"`
	RequestID string `json:"request_id"`
	Detail    string `json:"detail"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

// genesis is the previous hash of the first row.
var genesis = strings.Repeat("0", 64)

// rowHash chains a row to its predecessor: SHA-256 over the previous hash
// and a canonical JSON array of every other column, so editing any column,
// deleting a row or swapping two rows breaks the chain. The array is what
// json.Marshal([]any{seq, ts, actor, ...}) writes; canonTail builds it
// without reflection (FuzzCanonTail holds the two equal).
func rowHash(e *Event) string { return chainHash(e.PrevHash, e.Seq, canonTail(e)) }

// chainHash is rowHash with the columns after seq already encoded, so the
// audit writer encodes them before it takes the commit lock.
func chainHash(prev string, seq int64, tail []byte) string {
	var head [24]byte
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(strconv.AppendInt(append(head[:0], '\n', '['), seq, 10))
	h.Write(tail)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// canonTail is the canonical array from its second element on:
// `,ts,"actor",...,"detail"]`.
func canonTail(e *Event) []byte {
	b := make([]byte, 0, 64+len(e.Actor)+len(e.Action)+len(e.Route)+len(e.Resource)+len(e.Decision)+len(e.Rule)+len(e.RequestID)+len(e.Detail))
	b = strconv.AppendInt(append(b, ','), e.Time, 10)
	for _, s := range [...]string{e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail} {
		b = appendJSONString(append(b, ','), s)
	}
	return append(b, ']')
}

// appendJSONString writes s as encoding/json does: verbatim between quotes
// when every byte is printable ASCII that json leaves alone, and through
// json.Marshal otherwise (escapes, HTML-safe <>&, invalid UTF-8, U+2028).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendAudit adds e to the chain inside tx, the transaction of the change
// it records. It also moves the recorded head, so a truncated tail is
// detected too.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e Event) error {
	if s.dialect == "postgres" {
		// Serialize appends across replicas; released at commit.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7417002)`); err != nil {
			return fmt.Errorf("audit lock: %w", err)
		}
	}
	var last int64
	prev := genesis
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	e.Seq, e.PrevHash = last+1, prev
	if e.Time == 0 {
		e.Time = s.now().UnixNano()
	}
	e.Hash = rowHash(&e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Seq, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	head := strconv.FormatInt(e.Seq, 10) + ":" + e.Hash
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('audit_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, head); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// Audit records an event that changes no other state (a denial, a
// forwarded write). It returns once the row is committed, or with the
// error that kept it out; concurrent events share one commit (see
// auditWriter). ctx is not used to abandon the wait: the caller must
// learn whether its row was written.
func (s *Store) Audit(_ context.Context, e Event) error {
	if e.Time == 0 {
		e.Time = s.now().UnixNano()
	}
	return s.aw.submit(e)
}

// AuditProblem is one break in the chain.
type AuditProblem struct {
	Seq     int64
	Problem string
}

func (p AuditProblem) String() string { return fmt.Sprintf("row %d: %s", p.Seq, p.Problem) }

// VerifyAudit walks the whole chain and returns every break it finds:
// edited rows (hash mismatch), deleted or reordered rows (sequence gap or
// previous-hash mismatch), and a truncated tail (head mismatch). n is the
// number of rows read.
func (s *Store) VerifyAudit(ctx context.Context) (n int64, problems []AuditProblem, err error) {
	prev, expect := genesis, int64(1)
	var lastSeq int64
	var lastHash string
	err = s.eachAudit(ctx, func(e *Event) error {
		n++
		if e.Seq != expect {
			problems = append(problems, AuditProblem{e.Seq, fmt.Sprintf("expected sequence %d (row missing or moved)", expect)})
		}
		if subtle.ConstantTimeCompare([]byte(e.PrevHash), []byte(prev)) != 1 {
			problems = append(problems, AuditProblem{e.Seq, "previous-hash link broken (row deleted, inserted or reordered)"})
		}
		if want := rowHash(e); want != e.Hash {
			problems = append(problems, AuditProblem{e.Seq, "content does not match its hash (row edited)"})
		}
		prev, expect = e.Hash, e.Seq+1
		lastSeq, lastHash = e.Seq, e.Hash
		return nil
	})
	if err != nil {
		return n, problems, err
	}
	var head string
	herr := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'audit_head'`).Scan(&head)
	switch {
	case errors.Is(herr, sql.ErrNoRows):
		if n > 0 {
			problems = append(problems, AuditProblem{lastSeq, "recorded chain head is missing"})
		}
	case herr != nil:
		return n, problems, fmt.Errorf("audit head: %w", herr)
	default:
		if want := strconv.FormatInt(lastSeq, 10) + ":" + lastHash; head != want {
			problems = append(problems, AuditProblem{lastSeq, "chain ends before the recorded head " + head + " (rows deleted at the end)"})
		}
	}
	return n, problems, nil
}

func (s *Store) eachAudit(ctx context.Context, fn func(*Event) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("audit read: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Route, &e.Resource, &e.Decision, &e.Rule, &e.RequestID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("audit read: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExportAudit writes every row as one JSON object per line.
func (s *Store) ExportAudit(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := s.eachAudit(ctx, func(e *Event) error { return enc.Encode(e) }); err != nil {
		return err
	}
	return bw.Flush()
}
