package deploy

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Per-file budgets. Variable expansion is where a few hundred bytes of
// input can ask for gigabytes (A2="$A1$A1" ...), so the bytes expansion
// produces are counted, one value is capped, and every step of the
// interpretation (walked nodes, copied environment entries, lines) is
// counted against one work limit. Anything cut is reported as a "limit"
// error naming the file and line: the findings of that file are incomplete.
const (
	maxValue       = 16 << 10 // one expanded value
	maxExpanded    = 8 << 20  // all expansion output of one file
	maxWork        = 4_000_000
	maxWalkDepth   = 1000 // syntax tree levels walked (a && b && ... nests)
	maxServersFile = 1000
	maxShown       = 120 // bytes of a value quoted in a message
	maxYAMLDocs    = 10000
	maxLooseDepth  = 64 // Helm values and CI files nest a few levels
	maxNginxDepth  = 64 // http > server > location > if: a handful
)

// budget is one file's account; shared by every shellCtx of the file.
type budget struct {
	ctx      context.Context
	work     int
	expanded int
	stopped  bool            // the rest of the file is not interpreted
	reported map[string]bool // one error per cause
}

func newBudget(ctx context.Context) *budget {
	return &budget{ctx: ctx, reported: map[string]bool{}}
}

// limitErr records a "limit" error once per cause.
func (j *judge) limitErr(cause string, line int, format string, args ...any) {
	if j.b.reported[cause] {
		return
	}
	j.b.reported[cause] = true
	j.f.errs = append(j.f.errs, finding.Error{Path: j.path, Line: line, Kind: "limit", Message: fmt.Sprintf(format, args...)})
}

// spend charges n steps; false once the file's work limit is reached or
// the scan is cancelled (checked every 1024 steps: well under a second).
func (j *judge) spend(n, line int) bool {
	b := j.b
	if b.stopped {
		return false
	}
	before := b.work
	b.work += n
	if b.work > maxWork {
		b.stopped = true
		j.limitErr("work", line, "deploy: stopped at the work limit (%d steps) at line %d; the rest of the file was not checked", maxWork, line)
		return false
	}
	if before>>10 != b.work>>10 && b.ctx.Err() != nil {
		b.stopped = true
		if !b.reported["cancel"] {
			b.reported["cancel"] = true
			j.f.errs = append(j.f.errs, finding.Error{Path: j.path, Line: line, Kind: "unchecked", Message: fmt.Sprintf("deploy: analysis cancelled at line %d: %v", line, b.ctx.Err())})
		}
		return false
	}
	return true
}

// expand charges n bytes of expansion output; false when the value or the
// file's total would go over its cap (the value is then unknown).
func (j *judge) expand(cur, n, line int) bool {
	if cur+n > maxValue {
		j.limitErr("value", line, "deploy: a variable expansion at line %d is over %d KiB; it was treated as unknown, so checks of it are incomplete", line, maxValue>>10)
		return false
	}
	j.b.expanded += n
	if j.b.expanded > maxExpanded {
		j.b.stopped = true
		j.limitErr("expanded", line, "deploy: variable expansion produced over %d MiB by line %d; the rest of the file was not checked", maxExpanded>>20, line)
		return false
	}
	return j.spend(1, line)
}

// cloneEnv copies an environment, charging the copy.
func (j *judge) cloneEnv(e env, line int) env {
	if !j.spend(len(e), line) {
		return env{}
	}
	return e.clone()
}

// shown makes a value fit for a message: anything the secret detectors
// flag is masked, and long values are cut.
func (j *judge) shown(s string) string {
	if j.det != nil {
		s = j.det.RedactAll(s)
	}
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
