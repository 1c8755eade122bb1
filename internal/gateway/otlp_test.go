package gateway

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// otlpProto builds an ExportTraceServiceRequest with one span whose
// attribute key holds value (nested inside a kvlist when nested is set).
func otlpProto(key, value string, nested bool) []byte {
	msg := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	kv := append(str(1, key), msg(2, str(1, value))...)
	if nested {
		kv = append(str(1, "outer"), msg(2, msg(6, msg(1, kv)))...)
	}
	now := uint64(time.Now().UnixNano())
	span := msg(1, bytes.Repeat([]byte{0xab}, 16))
	span = append(span, msg(2, bytes.Repeat([]byte{0xcd}, 8))...)
	span = append(span, str(5, "predict")...)
	span = protowire.AppendFixed64(protowire.AppendTag(span, 7, protowire.Fixed64Type), now)
	span = protowire.AppendFixed64(protowire.AppendTag(span, 8, protowire.Fixed64Type), now+1000)
	span = append(span, msg(9, kv)...)
	return msg(1, msg(2, msg(2, span)))
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestOTLPStrings(t *testing.T) {
	var kvs []policy.KV
	if err := otlpProtoStrings(otlpProto("note", "hello", true), "request", 0, &kvs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, kv := range kvs {
		if kv.Key == "note" && kv.Value == "hello" {
			found = true
		}
	}
	if !found {
		t.Fatalf("nested attribute not read: %+v", kvs)
	}
	// A known string field sent as a varint: Python's protobuf refuses it,
	// and a walk that skipped it could skip a string.
	bad := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)
	if err := otlpProtoStrings(bad, "request", 0, &kvs); err == nil {
		t.Fatal("wrong wire type accepted")
	}
	if err := otlpProtoStrings([]byte{0x0a, 0x05, 'a'}, "request", 0, &kvs); err == nil {
		t.Fatal("truncated message accepted")
	}
	if _, err := otlpDecompress(gzipped([]byte("x")), "GZIP"); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"br", "zstd", "gzip, identity", " gzip"} {
		if _, err := otlpDecompress([]byte("x"), enc); err == nil {
			t.Errorf("Content-Encoding %q accepted", enc)
		}
	}
	var js []policy.KV
	v, err := strictJSON([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"n","attributes":[{"key":"api_key","value":{"stringValue":"v"}}]}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	otlpJSONStrings(v, "", &js)
	if !strings.Contains(strings.ReplaceAll(strings.Join(kvStrings(js), ","), " ", ""), "api_key=v") {
		t.Fatalf("JSON attribute not paired: %+v", js)
	}
}

func kvStrings(kvs []policy.KV) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key+"="+kv.Value)
	}
	return out
}

// FuzzOTLPProto: the guided protobuf walk never panics and never loops.
func FuzzOTLPProto(f *testing.F) {
	f.Add(otlpProto("note", "hello", false))
	f.Add(otlpProto("k", "v", true))
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var kvs []policy.KV
		_ = otlpProtoStrings(b, "request", 0, &kvs)
	})
}
