package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A scan of more than progressAfterFiles files draws the progress line on a
// terminal stderr (a real pty) and not with -q; the report on stdout is the
// same either way.
func TestScanProgressOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a few thousand files")
	}
	dir := t.TempDir()
	for i := 0; i < progressAfterFiles+300; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%50))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("m%d.py", i)), []byte("x = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scanOn := func(args ...string) (stdout, term string) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pty: %v", err)
		}
		defer ptmx.Close()
		var got bytes.Buffer
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // drain, so a full pty buffer never blocks the scan
			defer wg.Done()
			_, _ = io.Copy(&got, ptmx)
		}()
		var out bytes.Buffer
		env := Env{Stdout: &out, Stderr: tty, Getenv: func(string) string { return "" }}
		code := Run(context.Background(), append([]string{"scan", "--format", "json"}, append(args, dir)...), env)
		tty.Close()
		_ = ptmx.SetReadDeadline(time.Now().Add(2 * time.Second))
		wg.Wait()
		if code != ExitOK {
			t.Fatalf("scan %v: exit %d", args, code)
		}
		return out.String(), got.String()
	}
	out1, term1 := scanOn()
	if !strings.Contains(term1, "files/s") || !strings.Contains(term1, "scan") {
		t.Errorf("no progress line on the terminal: %q", lastN(term1, 300))
	}
	out2, term2 := scanOn("-q")
	if strings.Contains(term2, "files/s") {
		t.Errorf("progress line with -q: %q", lastN(term2, 300))
	}
	if !strings.Contains(out1, `"files_scanned": 2300`) || out1 != out2 {
		t.Errorf("reports differ or miss files: %s / %s", lastN(out1, 200), lastN(out2, 200))
	}
}

func lastN(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
