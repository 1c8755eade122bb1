package mlflowapi

import "strings"

// QuoteFilterValue quotes s as a string literal of MLflow's search filter
// grammar (mlflow/utils/search_utils.py, tokenized by sqlparse). That
// grammar has no usable escape: _strip_quotes only trims the two end quotes,
// so a backslash or a doubled quote stays in the value the server compares.
// A value is therefore quoted with a quote character it does not contain:
// double quotes first, single quotes if it holds a double quote. A value
// holding both cannot be written as an exact literal; ok is false and the
// caller must find it another way (an unfiltered search matched here).
// NUL is refused too: the server's SQL layer may truncate at it.
func QuoteFilterValue(s string) (quoted string, ok bool) {
	if strings.ContainsRune(s, 0) {
		return "", false
	}
	switch {
	case !strings.Contains(s, `"`):
		return `"` + s + `"`, true
	case !strings.Contains(s, `'`):
		return `'` + s + `'`, true
	}
	return "", false
}
