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

// auditBatchMax caps how many events one transaction carries.
const auditBatchMax = 256

// auditTimeout bounds one group commit; a store that hangs longer fails
// the batch, and every request in it is refused.
const auditTimeout = 10 * time.Second

// auditWriter appends the events of Audit (denials, forwarded writes)
// with group commit. Each caller waits for the commit that holds its row,
// so an acknowledged event is in the database and a failed commit is an
// error for every caller in it (they deny). Whoever finds no commit
// running commits everything queued so far itself: a lone request pays
// one transaction and no hand-off to another goroutine, and requests that
// arrive during a commit share the next one.
type auditWriter struct {
	s *Store

	qmu      sync.Mutex // guards queue and closed
	queue    []*auditReq
	closed   bool
	inflight sync.WaitGroup // submitters between queueing and their answer

	commitMu sync.Mutex // one commit at a time

	// Statements prepared once on the pool; database/sql re-prepares
	// them on a connection the first time a transaction uses it.
	head, insert, setHead *sql.Stmt
}

type auditReq struct {
	e    Event
	done chan error // buffered: the committer never blocks
}

const (
	sqlAuditHead    = `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`
	sqlAuditInsert  = `INSERT INTO audit_log (seq, ts, actor, action, route, resource, decision, rule, request_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	sqlAuditSetHead = `INSERT INTO meta (key, value) VALUES ('audit_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

func (s *Store) startAuditWriter(ctx context.Context) error {
	w := &auditWriter{s: s}
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
	return nil
}

// submit queues e and returns once the commit that holds it ends. It
// does not give up when a request's context ends: the row may already be
// on its way to the database, and the caller must learn whether it was
// written.
func (w *auditWriter) submit(e Event) error {
	r := &auditReq{e: e, done: make(chan error, 1)}
	w.qmu.Lock()
	if w.closed {
		w.qmu.Unlock()
		return fmt.Errorf("audit: %w", ErrClosed)
	}
	w.queue = append(w.queue, r)
	w.inflight.Add(1)
	w.qmu.Unlock()
	defer w.inflight.Done()

	w.commitMu.Lock()
	select {
	case err := <-r.done: // a commit that ran while we waited held our row
		w.commitMu.Unlock()
		return err
	default:
	}
	w.qmu.Lock()
	batch := w.queue
	w.queue = nil
	w.qmu.Unlock()
	for len(batch) > 0 { // ours is in it
		n := min(len(batch), auditBatchMax)
		w.commit(batch[:n])
		batch = batch[n:]
	}
	w.commitMu.Unlock()
	return <-r.done
}

func (w *auditWriter) commit(batch []*auditReq) {
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
func (w *auditWriter) append(ctx context.Context, tx *sql.Tx, batch []*auditReq) error {
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
	for _, r := range batch {
		e := r.e
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

// close refuses new events, waits until every queued one has its answer
// (each submitter commits its own if nobody else did), then releases the
// statements.
func (w *auditWriter) close() {
	w.qmu.Lock()
	if w.closed {
		w.qmu.Unlock()
		return
	}
	w.closed = true
	w.qmu.Unlock()
	w.inflight.Wait()
	w.head.Close()
	w.insert.Close()
	w.setHead.Close()
}
