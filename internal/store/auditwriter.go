package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

	// On SQLite the writer keeps one connection of its own (see pinned).
	pin *pinnedConn
}

// pinnedConn is the SQLite audit writer's own connection, with BEGIN
// IMMEDIATE, COMMIT and ROLLBACK prepared on it like the row statements.
// A database/sql transaction would prepare BEGIN and COMMIT again on every
// commit and start a goroutine watching the context; on a local file that
// was a sizeable part of a commit's cost. It is used under commitMu only.
// Lock waits stay bounded by busy_timeout (10 s, as auditTimeout).
type pinnedConn struct {
	conn                                           *sql.Conn
	begin, commit, rollback, head, insert, setHead *sql.Stmt
}

func openPinned(ctx context.Context, db *sql.DB) (*pinnedConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	p := &pinnedConn{conn: conn}
	for _, st := range []struct {
		dst **sql.Stmt
		q   string
	}{{&p.begin, "BEGIN IMMEDIATE"}, {&p.commit, "COMMIT"}, {&p.rollback, "ROLLBACK"},
		{&p.head, sqlAuditHead}, {&p.insert, sqlAuditInsert}, {&p.setHead, sqlAuditSetHead}} {
		if *st.dst, err = conn.PrepareContext(ctx, st.q); err != nil {
			p.discard()
			return nil, err
		}
	}
	return p, nil
}

// discard closes the statements and drops the connection from the pool
// (it may be left inside a transaction), never handing it to another user.
func (p *pinnedConn) discard() {
	for _, st := range []*sql.Stmt{p.begin, p.commit, p.rollback, p.head, p.insert, p.setHead} {
		if st != nil {
			st.Close()
		}
	}
	_ = p.conn.Raw(func(any) error { return driver.ErrBadConn })
	p.conn.Close()
}

type auditReq struct {
	e    Event
	tail []byte     // canonTail(&e), encoded before the commit lock
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
	if s.dialect == "sqlite" {
		if w.pin, err = openPinned(ctx, s.db); err != nil {
			return fmt.Errorf("store: audit connection: %w", err)
		}
	}
	if w.head, err = s.db.PrepareContext(ctx, sqlAuditHead); err != nil {
		w.dropPinned()
		return fmt.Errorf("store: prepare audit statements: %w", err)
	}
	if w.insert, err = s.db.PrepareContext(ctx, sqlAuditInsert); err != nil {
		w.dropPinned()
		w.head.Close()
		return fmt.Errorf("store: prepare audit statements: %w", err)
	}
	if w.setHead, err = s.db.PrepareContext(ctx, sqlAuditSetHead); err != nil {
		w.dropPinned()
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
	r := &auditReq{e: e, tail: canonTail(&e), done: make(chan error, 1)}
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
	var err error
	if w.s.dialect == "sqlite" {
		err = w.commitPinned(batch)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		err = w.s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7417002)`); err != nil {
				return fmt.Errorf("audit lock: %w", err)
			}
			return w.append(ctx, tx.StmtContext(ctx, w.head), tx.StmtContext(ctx, w.insert), tx.StmtContext(ctx, w.setHead), batch)
		})
		cancel()
	}
	if err != nil {
		err = fmt.Errorf("audit append: %w", err)
	}
	for _, r := range batch {
		r.done <- err
	}
}

// commitPinned is one SQLite transaction on the writer's own connection.
// Any failure rolls back; a connection whose rollback failed too is
// dropped and a fresh one opened for the next batch.
func (w *auditWriter) commitPinned(batch []*auditReq) error {
	ctx := context.Background() // no watcher goroutine per statement
	if w.pin == nil {
		p, err := openPinned(ctx, w.s.db)
		if err != nil {
			return err
		}
		w.pin = p
	}
	p := w.pin
	if _, err := p.begin.ExecContext(ctx); err != nil {
		w.dropPinned()
		return err
	}
	err := w.append(ctx, p.head, p.insert, p.setHead, batch)
	if err == nil {
		if _, err = p.commit.ExecContext(ctx); err == nil {
			return nil
		}
	}
	if _, rerr := p.rollback.ExecContext(ctx); rerr != nil {
		w.dropPinned()
	}
	return err
}

func (w *auditWriter) dropPinned() {
	if w.pin != nil {
		w.pin.discard()
		w.pin = nil
	}
}

// append is appendAudit for a batch, with the prepared statements of the
// transaction: one head read, one insert per event, one head update.
func (w *auditWriter) append(ctx context.Context, head, ins, setHead *sql.Stmt, batch []*auditReq) error {
	var last int64
	prev := genesis
	err := head.QueryRowContext(ctx).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	for _, r := range batch {
		e := r.e
		last++
		e.Seq, e.PrevHash = last, prev
		e.Hash = chainHash(prev, last, r.tail)
		if _, err := ins.ExecContext(ctx, e.Seq, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail, e.PrevHash, e.Hash); err != nil {
			return err
		}
		prev = e.Hash
	}
	if _, err := setHead.ExecContext(ctx, strconv.FormatInt(last, 10)+":"+prev); err != nil {
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
	w.commitMu.Lock()
	w.dropPinned()
	w.commitMu.Unlock()
	w.head.Close()
	w.insert.Close()
	w.setHead.Close()
}
