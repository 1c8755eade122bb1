package store

import (
	"context"
	"fmt"
	"testing"
)

// The SQLite writer reuses the head it committed last only while nobody
// else wrote: rows appended in between by the store's other connections
// (a state change) or by a second store on the same file (another
// process, such as a CLI command next to serve) keep the chain whole.
func TestAuditHeadCacheSeesOtherWriters(t *testing.T) {
	dir := t.TempDir()
	s := openOpts(t, Options{DataDir: dir})
	other := openOpts(t, Options{DataDir: dir})
	ctx := context.Background()
	want := int64(0)
	audit := func(st *Store, what string) {
		t.Helper()
		if err := st.Audit(ctx, Event{Actor: "x", Action: what, Decision: "allow"}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want++
	}
	for i := range 3 {
		audit(s, fmt.Sprint("a", i))
		audit(s, fmt.Sprint("b", i))
		if err := s.CreateUser(ctx, "admin", fmt.Sprint("user", i), "a long password 1", false); err != nil {
			t.Fatal(err)
		}
		want++
		audit(s, fmt.Sprint("c", i))
		audit(other, fmt.Sprint("other", i))
		audit(s, fmt.Sprint("d", i))
	}
	for _, st := range []*Store{s, other} {
		n, probs, err := st.VerifyAudit(ctx)
		if err != nil || n != want || len(probs) != 0 {
			t.Fatalf("n=%d want %d: %v %v", n, want, probs, err)
		}
	}
}
