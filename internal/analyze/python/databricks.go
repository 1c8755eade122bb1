package python

import (
	"bytes"
	"strings"
)

// Databricks notebook sources (".py" exports) are Python with a header,
// "# COMMAND ----------" cell breaks, "# MAGIC" lines (comments) and, in
// cells written by hand, IPython escapes ("!pip install", "%pip install")
// that are not Python. The Databricks runtime defines spark, dbutils,
// display and sc, and "%run ./Common" defines whatever that notebook does.

var databricksHeader = []byte("# Databricks notebook source")

// databricksSource reports a Databricks notebook export.
func databricksSource(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b, "\ufeff"), databricksHeader)
}

// blankEscapes replaces each top-level "!cmd" or "%magic" line with spaces
// of the same length, so the rest parses and every position stays true.
func blankEscapes(b []byte) []byte {
	var out []byte
	start := 0
	for start < len(b) {
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		if end > start && (b[start] == '!' || b[start] == '%') {
			if out == nil {
				out = append([]byte(nil), b...)
			}
			for i := start; i < end; i++ {
				if out[i] != '\r' {
					out[i] = ' '
				}
			}
		}
		start = end + 1
	}
	if out == nil {
		return b
	}
	return out
}

// databricksRuntime are the names the runtime binds in every notebook,
// resolved like imported modules so calls on them have a target and no
// taint spreads from them.
var databricksRuntime = map[string]string{
	"spark": "pyspark.sql.SparkSession", "sc": "pyspark.SparkContext", "dbutils": "dbutils",
	"display": "databricks.display", "displayHTML": "databricks.displayHTML", "sqlContext": "pyspark.sql.SQLContext",
}

// notebookRun reports a "%run" of another notebook, which may define any name.
func notebookRun(b []byte) bool {
	for _, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "# MAGIC %run") || strings.HasPrefix(t, "%run") {
			return true
		}
	}
	return false
}

// notebookSource is what a widget read returns: operator input, like a
// command-line option.
func notebookSource(c *call) (*val, bool) {
	switch c.qual {
	case "dbutils.widgets.get", "dbutils.widgets.getArgument":
		out := &val{t: tCLI, src: "a notebook widget"}
		if k := c.arg("name", 0); k.known() {
			out.src = "notebook widget '" + k.tmpl + "'"
		}
		return out, true
	}
	return nil, false
}
