package pull

import (
	"errors"
	"fmt"
)

// Refusal is a pull that was refused for a rule: the model version is not
// approved, not the bytes that were approved, or not safe to load. The CLI
// exits 1 with it. DIR is untouched whenever a Refusal is returned.
type Refusal struct {
	RuleID  string // MLG104, MLG105, MLG106, MLG107, MLG109, MLG110, MLG111 ...
	Path    string // the file, or the registry resource, it is about
	Message string
	// More lists further findings of the same refusal (the model scan can
	// have several); each is "RULE path: message".
	More []string
}

func (r *Refusal) Error() string {
	s := r.RuleID + " "
	if r.Path != "" {
		s += r.Path + ": "
	}
	return s + r.Message
}

func refuse(rule, path, format string, a ...any) *Refusal {
	return &Refusal{RuleID: rule, Path: path, Message: fmt.Sprintf(format, a...)}
}

// Sentinel errors the CLI maps to exit codes (errors.Is). A refusal is a
// *Refusal; anything else is a failure to pull (exit 3).
var (
	// ErrUsage: the request itself is wrong (a bad URI, DIR not empty, a
	// model, version or alias that does not exist, no trusted key).
	ErrUsage = errors.New("usage")
	// ErrAuth: the server refused the credentials.
	ErrAuth = errors.New("not authorized")
)

// usageErr wraps a message as ErrUsage.
func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}
