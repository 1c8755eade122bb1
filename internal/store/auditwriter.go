package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
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

// pinnedConn is the SQLite audit writer's own connection, used under
// commitMu only. Its statements (BEGIN IMMEDIATE, COMMIT, ROLLBACK and the
// row statements) are prepared once on the driver connection itself and
// run inside conn.Raw: database/sql would prepare BEGIN and COMMIT again
// on every commit, start a goroutine watching the context, and convert
// and copy every argument; on a local file that was a sizeable part of a
// commit's cost. Lock waits stay bounded by busy_timeout (10 s, as
// auditTimeout).
type pinnedConn struct {
	conn                                           *sql.Conn
	begin, commit, rollback, head, insert, setHead driver.Stmt
	args                                           [12]driver.NamedValue // reused for each row
	row                                            [2]driver.Value       // the head query's row
	// The head this connection committed last, and the database's data
	// version right after (headCache).
	headOK   bool
	headSeq  int64
	headHash string
	version  uint32
}

// dataVersioner is the driver's SQLITE_FCNTL_DATA_VERSION: a number that
// changes with every change to the database file, by this connection or
// any other (other processes too), as seen by the current transaction.
type dataVersioner interface {
	FileControlDataVersion(dbName string) (uint32, error)
}

func openPinned(ctx context.Context, db *sql.DB) (*pinnedConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	p := &pinnedConn{conn: conn}
	for i := range p.args {
		p.args[i].Ordinal = i + 1
	}
	err = conn.Raw(func(dc any) error {
		for _, st := range []struct {
			dst *driver.Stmt
			q   string
		}{{&p.begin, "BEGIN IMMEDIATE"}, {&p.commit, "COMMIT"}, {&p.rollback, "ROLLBACK"},
			{&p.head, sqlAuditHead}, {&p.insert, sqlAuditInsert}, {&p.setHead, sqlAuditSetHead}} {
			var err error
			if cp, ok := dc.(driver.ConnPrepareContext); ok {
				*st.dst, err = cp.PrepareContext(ctx, st.q)
			} else {
				*st.dst, err = dc.(driver.Conn).Prepare(st.q)
			}
			if err != nil {
				return fmt.Errorf("prepare %q: %w", st.q, err)
			}
			_, canExec := (*st.dst).(driver.StmtExecContext)
			_, canQuery := (*st.dst).(driver.StmtQueryContext)
			if !canExec || !canQuery {
				return fmt.Errorf("driver statement %T lacks ExecContext or QueryContext", *st.dst)
			}
		}
		return nil
	})
	if err != nil {
		p.discard()
		return nil, err
	}
	return p, nil
}

// discard closes the statements and drops the connection from the pool
// (it may be left inside a transaction), never handing it to another user.
func (p *pinnedConn) discard() {
	_ = p.conn.Raw(func(any) error {
		for _, st := range []driver.Stmt{p.begin, p.commit, p.rollback, p.head, p.insert, p.setHead} {
			if st != nil {
				st.Close()
			}
		}
		return driver.ErrBadConn
	})
	p.conn.Close()
}

// exec runs a statement prepared by openPinned; call inside conn.Raw.
func (p *pinnedConn) exec(ctx context.Context, st driver.Stmt, args []driver.NamedValue) error {
	_, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	return err
}

// readHead is the chain head (0 and genesis for an empty log); call
// inside conn.Raw.
func (p *pinnedConn) readHead(ctx context.Context) (int64, string, error) {
	rows, err := p.head.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	clear(p.row[:])
	switch err := rows.Next(p.row[:]); {
	case errors.Is(err, io.EOF):
		return 0, genesis, nil
	case err != nil:
		return 0, "", err
	}
	seq, ok := p.row[0].(int64)
	var hash string
	switch h := p.row[1].(type) {
	case string:
		hash = h
	case []byte:
		hash = string(h)
	default:
		ok = false
	}
	if !ok {
		return 0, "", fmt.Errorf("audit head row has types %T, %T", p.row[0], p.row[1])
	}
	return seq, hash, nil
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
	drop := false
	err := p.conn.Raw(func(dc any) error {
		if err := p.exec(ctx, p.begin, nil); err != nil {
			drop = true
			return err
		}
		headOK := p.headOK
		p.headOK = false // until this commit is known to have ended well
		last, prev, err := p.headCache(ctx, dc, headOK)
		if err == nil {
			last, prev, err = w.appendPinned(ctx, p, batch, last, prev)
		}
		if err == nil {
			if err = p.exec(ctx, p.commit, nil); err == nil {
				p.remember(dc, last, prev)
				return nil
			}
		}
		if rerr := p.exec(ctx, p.rollback, nil); rerr != nil {
			drop = true
		}
		return err
	})
	if drop || errors.Is(err, driver.ErrBadConn) {
		w.dropPinned()
	}
	return err
}

// headCache is the chain head inside the transaction BEGIN IMMEDIATE
// started: the one this connection committed last when the data version
// shows no change since (no other connection or process wrote; none can
// until COMMIT), else read from the table. A stale head could not go
// unnoticed anyway: its next sequence number would collide with the
// primary key of the row that made it stale.
func (p *pinnedConn) headCache(ctx context.Context, dc any, ok bool) (int64, string, error) {
	if dv, can := dc.(dataVersioner); ok && can {
		if v, err := dv.FileControlDataVersion("main"); err == nil && v == p.version {
			return p.headSeq, p.headHash, nil
		}
	}
	last, prev, err := p.readHead(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("audit head: %w", err)
	}
	return last, prev, nil
}

// remember keeps the head just committed with the data version after it.
func (p *pinnedConn) remember(dc any, last int64, prev string) {
	dv, can := dc.(dataVersioner)
	if !can {
		return
	}
	v, err := dv.FileControlDataVersion("main")
	if err != nil {
		return
	}
	p.headOK, p.headSeq, p.headHash, p.version = true, last, prev, v
}

// appendPinned is append on the pinned connection's driver statements,
// after the head (last, prev); it returns the new head.
func (w *auditWriter) appendPinned(ctx context.Context, p *pinnedConn, batch []*auditReq, last int64, prev string) (int64, string, error) {
	a := p.args[:]
	defer func() { // no row's strings kept past the commit
		for i := range a {
			a[i].Value = nil
		}
	}()
	for _, r := range batch {
		e := &r.e
		last++
		hash := chainHash(prev, last, r.tail)
		for i, v := range [...]any{last, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail, prev, hash} {
			a[i].Value = v
		}
		if err := p.exec(ctx, p.insert, a); err != nil {
			return 0, "", err
		}
		prev = hash
	}
	a[0].Value = strconv.FormatInt(last, 10) + ":" + prev
	if err := p.exec(ctx, p.setHead, a[:1]); err != nil {
		return 0, "", fmt.Errorf("audit head: %w", err)
	}
	return last, prev, nil
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
