package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Events submitted together share commits, and every acknowledged one is
// in a valid chain, interleaved with state changes that append in their
// own transactions.
func TestAuditGroupCommit(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 300)
			for i := range 300 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- s.Audit(ctx, Event{Actor: "x", Action: "forward", Decision: "allow", RequestID: fmt.Sprint(i)})
				}()
			}
			if err := s.CreateUser(ctx, "admin", "alice", "a long password 1", false); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			n, probs, err := s.VerifyAudit(ctx)
			if err != nil || n != 301 || len(probs) != 0 {
				t.Fatalf("n=%d %v %v", n, probs, err)
			}
		})
	}
}

// A commit that fails is an error for every caller in it, no row of it
// is kept, and the writer recovers once the database accepts rows again.
func TestAuditFailureIsReported(t *testing.T) {
	s := openOpts(t, Options{DataDir: t.TempDir()})
	ctx := context.Background()
	if err := s.Audit(ctx, Event{Actor: "x", Action: "before", Decision: "allow"}); err != nil {
		t.Fatal(err)
	}
	if err := s.TamperForTest(`CREATE TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed sync.Map
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Audit(ctx, Event{Actor: "x", Action: "during", Decision: "allow"}); err != nil {
				failed.Store(i, err)
			}
		}()
	}
	wg.Wait()
	for i := range 20 {
		v, ok := failed.Load(i)
		if !ok || !strings.Contains(v.(error).Error(), "disk says no") {
			t.Fatalf("event %d: want the store's error, got %v", i, v)
		}
	}
	if err := s.TamperForTest(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, Event{Actor: "x", Action: "after", Decision: "allow"}); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := s.ExportAudit(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"during"`) || !strings.Contains(buf.String(), `"after"`) {
		t.Fatalf("audit log:\n%s", buf.String())
	}
	if n, probs, err := s.VerifyAudit(ctx); err != nil || n != 2 || len(probs) != 0 {
		t.Fatalf("n=%d %v %v", n, probs, err)
	}
}

// Close while events are being submitted: every event acknowledged
// without error is in the database afterwards (a clean shutdown loses no
// row), the rest were refused with ErrClosed, and the chain is valid.
func TestAuditCloseLosesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	start := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				id := fmt.Sprintf("%d-%d", w, i)
				err := s.Audit(ctx, Event{Actor: "x", Action: "forward", Decision: "allow", RequestID: id})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("%s: %v", id, err)
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}()
	}
	close(start)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Audit(ctx, Event{Actor: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("audit after close: %v", err)
	}
	s2 := openOpts(t, Options{DataDir: dir})
	seen := map[string]bool{}
	if err := s2.eachAudit(ctx, func(e *Event) error { seen[e.RequestID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !seen[id] {
			t.Fatalf("acknowledged event %s is not in the log (%d acknowledged, %d stored)", id, len(acked), len(seen))
		}
	}
	if _, probs, err := s2.VerifyAudit(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("%v %v", probs, err)
	}
}
