package mlflowapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestQuoteFilterValueAgainstMLflow checks the quoting against MLflow's own
// filter parser: every value QuoteFilterValue accepts parses back to
// exactly itself. It refuses only values with both quote characters; a
// few of those would have a literal (sqlparse reads a doubled quote inside
// a string, which MLflow then keeps), but the unfiltered search that
// serves refused names is always right, so the rule stays simple.
func TestQuoteFilterValueAgainstMLflow(t *testing.T) {
	names := []string{
		"plain", "o'brien", `say "hi"`, `both ' and "`, `back\slash`, `trail\`, `\`, `\\`, `'`, `"`,
		`a\'b`, `a\"b`, `x''y`, `x""y`, "pct%_x", "%", "_", "ünïcødé モデル", "tab\tnl\nz", " sp ",
		"AND", "x' OR name LIKE '%", `x" OR name="y`, "name = 'a'", "()", "a,b", "`tick`", "émoji 🦊",
	}
	// Random names from the characters the grammar treats specially.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune(`'"\%_ ()=,` + "`aZ0ü\t")
	for range 300 {
		n := make([]rune, 1+r.IntN(8))
		for i := range n {
			n[i] = alphabet[r.IntN(len(alphabet))]
		}
		names = append(names, string(n))
	}
	var filters []string
	var quoted []int // index into names of each filter
	refused := 0
	for i, n := range names {
		if lit, ok := QuoteFilterValue(n); ok {
			filters = append(filters, "name="+lit)
			quoted = append(quoted, i)
		} else if !strings.Contains(n, `'`) || !strings.Contains(n, `"`) {
			t.Errorf("%q refused though one quote character is free", n)
		} else {
			refused++
		}
	}
	if refused < 4 {
		t.Errorf("only %d names refused; the list lost its unquotable cases", refused)
	}
	spec := filepath.Join(t.TempDir(), "filters.json")
	b, _ := json.Marshal(filters)
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := testenv.RunPython(t, filepath.Join(testenv.RepoRoot(), "internal/mlflowapi/testdata/parse_filter.py"), nil, spec)
	var got []struct {
		Value *string `json:"value"`
		Error string  `json:"error"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &got); err != nil || len(got) != len(filters) {
		t.Fatalf("oracle output (%v): %s", err, out)
	}
	for k, g := range got {
		i := quoted[k]
		if g.Value == nil || *g.Value != names[i] {
			t.Errorf("%q quoted as %s: MLflow parses %v %q", names[i], filters[k], g.Value, g.Error)
		}
	}
}

func TestEndlessDistinctPageTokens(t *testing.T) {
	var calls atomic.Int64
	pad := strings.Repeat("x", 4000)
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		fmt.Fprintf(w, `{"experiments":[{"experiment_id":"%d"}],"next_page_token":"%s%d"}`, n, pad, n)
	}, Options{MaxPages: 300})
	seen := 0
	err := c.SearchExperiments(context.Background(), func(es []Experiment) error { seen += len(es); return nil })
	if !errors.Is(err, ErrLimit) || calls.Load() != 300 || seen != 300 {
		t.Fatalf("err=%v calls=%d seen=%d, want ErrLimit after 300 pages", err, calls.Load(), seen)
	}
	if !strings.Contains(err.Error(), PathSearchExperiments) {
		t.Errorf("error does not name the search: %v", err)
	}
}

func TestEmptyPagesAndHugeTokens(t *testing.T) {
	var calls atomic.Int64
	empty := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"runs":[],"next_page_token":"t%d"}`, calls.Add(1))
	}, Options{})
	err := empty.SearchRuns(context.Background(), []string{"1"}, func([]Run) error { return nil })
	if !errors.Is(err, ErrMalformed) || calls.Load() > maxEmptyPages+1 {
		t.Errorf("endless empty pages: err=%v after %d calls, want ErrMalformed after %d", err, calls.Load(), maxEmptyPages+1)
	}
	huge := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"experiments":[{"experiment_id":"1"}],"next_page_token":"%s"}`, strings.Repeat("t", maxTokenLen+1))
	}, Options{})
	if err := huge.SearchExperiments(context.Background(), func([]Experiment) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized page token: %v, want ErrMalformed", err)
	}
}

func TestListArtifactsRejectsSizesAndCaps(t *testing.T) {
	for _, c := range []struct {
		body string
		want error
	}{
		{`{"files":[{"path":"a","file_size":-1}]}`, ErrMalformed},
		{`{"files":[{"path":"a","file_size":"-9223372036854775808"}]}`, ErrMalformed},
		{`{"files":[{"path":"a","file_size":"9223372036854775807"}]}`, ErrMalformed},
		{fmt.Sprintf(`{"files":[{"path":"a","file_size":%d}]}`, int64(MaxArtifactSize)+1), ErrMalformed},
		{`{"files":[{"path":"a","file_size":"99999999999999999999"}]}`, ErrMalformed},
		{`{"files":[{"path":"a","file_size":12},{"path":"d","is_dir":true},{"path":"z"}]}`, nil},
	} {
		cl := newTest(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, c.body) }, Options{})
		_, err := cl.ListArtifacts(context.Background(), "1/m", 10)
		if (c.want == nil) != (err == nil) || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err=%v, want %v", c.body, err, c.want)
		}
	}
	var calls atomic.Int64
	cl := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		fmt.Fprintf(w, `{"files":[{"path":"a%d","file_size":1},{"path":"b%d","file_size":1}],"next_page_token":"p%d"}`, n, n, n)
	}, Options{})
	got, err := cl.ListArtifacts(context.Background(), "1/m", 5)
	if !errors.Is(err, ErrLimit) || len(got) > 5 || calls.Load() != 3 {
		t.Errorf("listing past its cap: err=%v entries=%d calls=%d, want ErrLimit at the third page", err, len(got), calls.Load())
	}
}

// holdListener accepts connections and never answers them.
func holdListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestServerNeverAnswers(t *testing.T) {
	uri := holdListener(t)
	// The response-header timeout ends each attempt; retries are bounded.
	c, err := New(uri, Options{Timeout: time.Hour, ResponseHeaderTimeout: 200 * time.Millisecond, Retries: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.SearchExperiments(context.Background(), func([]Experiment) error { return nil })
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("header timeout: err=%v after %v", err, time.Since(start))
	}
	// A context deadline ends it whatever the timeouts.
	c, _ = New(uri, Options{Retries: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = c.SearchExperiments(ctx, func([]Experiment) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("deadline: err=%v after %v", err, time.Since(start))
	}
}

// TestPageTokensBoundedMemory pages to the default cap with distinct 4 KB
// tokens and measures the live heap on the last page: remembering tokens
// by hash keeps it to a few MB where keeping the tokens would hold 400 MB.
func TestPageTokensBoundedMemory(t *testing.T) {
	c, err := New("http://127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("t", maxTokenLen-16)
	var before, last runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pages := 0
	err = c.each(context.Background(), "/p", func(token string) (string, int, error) {
		pages++
		if pages == c.maxPages {
			runtime.GC()
			runtime.ReadMemStats(&last)
		}
		return fmt.Sprintf("%s%016d", pad, pages), 1, nil
	})
	if !errors.Is(err, ErrLimit) || pages != c.maxPages {
		t.Fatalf("err=%v after %d pages, want ErrLimit after %d", err, pages, c.maxPages)
	}
	live := int64(last.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d pages of %d-byte tokens: live heap grew %d KiB", pages, maxTokenLen, live>>10)
	if live > 32<<20 {
		t.Errorf("live heap grew %d MiB over %d pages: tokens are retained", live>>20, pages)
	}
}

func TestClipWordsNeverKeepsPartOfAToken(t *testing.T) {
	tok := "ghp_hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
	for _, prefix := range []string{"", "error: ", `{"message":"bad token `, "<html><body>", "k=", strings.Repeat("a ", 140)} {
		s := prefix + tok + " tail"
		for n := 1; n < len(s); n++ {
			got := clipWords(s, n)
			kept := strings.TrimSuffix(got, "...")
			if len(kept) > len(prefix) && !strings.Contains(kept, tok) {
				t.Fatalf("clipWords(%q, %d) = %q keeps part of the token", s, n, got)
			}
			if len(got) > n+3 {
				t.Fatalf("clipWords(%q, %d) = %q is longer than asked", s, n, got)
			}
		}
	}
	if got := clipWords("short", 10); got != "short" {
		t.Errorf("%q", got)
	}
}
