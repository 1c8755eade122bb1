package store

import (
	"encoding/json"
	"strconv"
	"testing"
)

// FuzzCanonTail holds canonTail to the encoding it replaced: the chain of
// every row already written was hashed over json.Marshal of this array.
func FuzzCanonTail(f *testing.F) {
	for _, s := range []string{"", "alice", `quo"te`, `back\slash`, "<script>&", "tab\tnl\n", "\x00\x1f\x7f",
		"é ü 漢字", "\u2028\u2029", "\xff\xfe bad utf8", "ip=127.0.0.1", "POST /api/2.0/mlflow/runs/log-batch"} {
		f.Add(int64(3), int64(1733333333000000000), s, "forward", s+"x")
	}
	f.Fuzz(func(t *testing.T, seq, ts int64, a, b, c string) {
		e := Event{Seq: seq, Time: ts, Actor: a, Action: b, Route: c, Resource: a + b, Decision: "allow", Rule: c, RequestID: b, Detail: a + c, PrevHash: genesis}
		want, err := json.Marshal([]any{e.Seq, e.Time, e.Actor, e.Action, e.Route, e.Resource, e.Decision, e.Rule, e.RequestID, e.Detail})
		if err != nil {
			t.Fatal(err)
		}
		got := append(append([]byte("["), strconv.FormatInt(seq, 10)...), canonTail(&e)...)
		if string(got) != string(want) {
			t.Fatalf("canonical array differs\n got %s\nwant %s", got, want)
		}
	})
}
