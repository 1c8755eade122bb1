package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// ErrClosed is returned for an audit event submitted after Close.
var ErrClosed = errors.New("store closed")

// auditBatchMax caps how many events one group commit carries.
const auditBatchMax = 256

// auditTimeout bounds one group commit; a store that hangs longer fails
// the batch, and every request in it is refused.
const auditTimeout = 10 * time.Second

// auditWriter is the single goroutine that appends the events of Audit
// (denials, forwarded writes). Callers wait for the commit that holds
// their row, so an acknowledged event is in the database and a failed
// commit is an error for every caller in the batch (they deny). Events
// that arrive while a commit runs share the next one: under concurrency
// the chain grows by one transaction per batch, not per request.
type auditWriter struct {
	s       *Store
	reqs    chan auditReq
	mu      sync.RWMutex // held for reading while submitting; Close takes it to refuse more
	closed  bool
	quit    chan struct{}
	stopped chan struct{}

	// Statements prepared once on the pool; database/sql re-prepares
	// them on a connection the first time a transaction uses it.
	head, insert, setHead *sql.Stmt
}

type auditReq struct {
	e    Event
	done chan error
}

const (
	sqlAuditHead    = `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`
	sqlAuditInsert  = `INSERT INTO audit_log (seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	sqlAuditSetHead = `INSERT INTO meta (key, value) VALUES ('audit_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

func (s *Store) startAuditWriter(ctx context.Context) error {
	w := &auditWriter{s: s, reqs: make(chan auditReq, auditBatchMax), quit: make(chan struct{}), stopped: make(chan struct{})}
	var err error
	if w.head, err = s.db.PrepareContext(ctx, sqlAuditHead); err != nil {
		return fmt.Errorf("store: prepare audit statements: %w", err)
	}
	if w.insert, err = s.db.PrepareContext(ctx, sqlAuditInsert); err != nil {
		w.head.Close()
		return fmt.Errorf("store: prepare audit statements: %w", err)
	}
	if w.setHead, err = s.db.PrepareContext(ctx, sqlAuditSetHead); err != nil {
		w.head.Close()
		w.insert.Close()
		return fmt.Errorf("store: prepare audit statements: %w", err)
	}
	s.aw = w
	go w.run()
	return nil
}

// submit queues e and waits for the commit that holds it. It does not
// give up when ctx ends: the row may already be on its way to the
// database, and the caller must learn whether it was written.
func (w *auditWriter) submit(e Event) error {
	done := make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return fmt.Errorf("audit: %w", ErrClosed)
	}
	w.reqs <- auditReq{e, done}
	w.mu.RUnlock()
	return <-done
}

func (w *auditWriter) run() {
	defer close(w.stopped)
	batch := make([]auditReq, 0, auditBatchMax)
	for {
		select {
		case r := <-w.reqs:
			batch = append(batch[:0], r)
			batch = w.fill(batch)
			w.commit(batch)
		case <-w.quit:
			// Close refuses new events before quit closes, so what is
			// queued now is all there is: write it, then stop.
			for {
				batch = w.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				w.commit(batch)
			}
		}
	}
}

// fill adds whatever is already queued, without waiting.
func (w *auditWriter) fill(batch []auditReq) []auditReq {
	for len(batch) < auditBatchMax {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

func (w *auditWriter) commit(batch []auditReq) {
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	err := w.s.tx(ctx, func(tx *sql.Tx) error { return w.append(ctx, tx, batch) })
	cancel()
	if err != nil {
		err = fmt.Errorf("audit append: %w", err)
	}
	for _, r := range batch {
		r.done <- err
	}
}

// append is appendAudit for a batch, with the prepared statements: one
// head read, one insert per event, one head update.
func (w *auditWriter) append(ctx context.Context, tx *sql.Tx, batch []auditReq) error {
	if w.s.dialect == "postgres" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7417002)`); err != nil {
			return fmt.Errorf("audit lock: %w", err)
		}
	}
	var last int64
	prev := genesis
	err := tx.StmtContext(ctx, w.head).QueryRowContext(ctx).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	ins := tx.StmtContext(ctx, w.insert)
	for i := range batch {
		e := batch[i].e
		last++
		e.Seq, e.PrevHash = last, prev
		e.Hash = rowHash(&e)
		if _, err := ins.ExecContext(ctx, e.Seq, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail, e.PrevHash, e.Hash); err != nil {
			return err
		}
		prev = e.Hash
	}
	if _, err := tx.StmtContext(ctx, w.setHead).ExecContext(ctx, strconv.FormatInt(last, 10)+":"+prev); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// close refuses new events, writes the queued ones and stops the writer.
func (w *auditWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.stopped
	w.head.Close()
	w.insert.Close()
	w.setHead.Close()
}
