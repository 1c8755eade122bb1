package gateway

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// OTLP trace export (POST /v1/traces) stores span names, attributes,
// events and status messages as MLflow spans and trace metadata. Its body
// is protobuf or JSON, optionally gzip- or deflate-compressed, which the
// request policies do not read, so secrets went in unchecked. The gateway
// buffers the body (within the API body limit), decodes it the way
// mlflow.server.otel_api does, hands every string to the secret policy,
// and forwards the bytes it read.

const (
	otlpMaxDecoded = 64 << 20 // a compression bomb stops here
	otlpMaxDepth   = 64
)

func isOTLP(rt *compiled) bool { return rt != nil && rt.Pattern == "/v1/traces" }

// checkOTLP judges an OTLP export's strings; nil when there is nothing to
// judge or they pass.
func (g *Gateway) checkOTLP(r *http.Request, st *reqState) *Denial {
	if g.policy == nil || !isOTLP(st.route) {
		return nil
	}
	deny := func(format string, a ...any) *Denial {
		return denyForbidden("ambiguous-request", "POST /v1/traces: "+fmt.Sprintf(format, a...))
	}
	if len(r.Header.Values("Content-Type")) > 1 || len(r.Header.Values("Content-Encoding")) > 1 {
		return deny("Content-Type or Content-Encoding given more than once")
	}
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (media != "application/x-protobuf" && media != "application/json") {
		return deny("Content-Type %q is neither application/x-protobuf nor application/json", r.Header.Get("Content-Type"))
	}
	body, d := g.readBody(r)
	if d != nil {
		return d
	}
	st.body = body // the bytes checked are the bytes forwarded
	plain, err := otlpDecompress(body, r.Header.Get("Content-Encoding"))
	if err != nil {
		return deny("%v", err)
	}
	var kvs []policy.KV
	if media == "application/json" {
		v, err := strictJSON(plain)
		if err != nil {
			return deny("%v", err)
		}
		otlpJSONStrings(v, "", &kvs)
	} else if err := otlpProtoStrings(plain, "request", 0, &kvs); err != nil {
		return deny("protobuf: %v", err)
	}
	dec := g.policy.CheckStrings(policy.FieldTag, kvs)
	if f := formatFindings(dec.Findings); f != "" {
		st.findings = strings.TrimSpace(st.findings + " " + f)
	}
	if dec.Action == policy.Deny {
		reason := policyReasons[dec.Rule]
		if reason == "" {
			reason = "policy"
		}
		return policyDenial(dec.Rule, reason, dec.Rule+": OTLP span "+dec.Reason)
	}
	return nil
}

// otlpDecompress mirrors mlflow.tracing.utils.otlp.decompress_otlp_body:
// none, gzip, or deflate (zlib-wrapped, else raw). Anything else is
// refused rather than forwarded unread.
func otlpDecompress(b []byte, enc string) ([]byte, error) {
	var rd io.Reader
	switch strings.ToLower(enc) {
	case "":
		return b, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		rd = zr
	case "deflate":
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			rd = zr
		} else {
			rd = flate.NewReader(bytes.NewReader(b))
		}
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not one MLflow decodes", enc)
	}
	out, err := io.ReadAll(io.LimitReader(rd, otlpMaxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", enc, err)
	}
	if len(out) > otlpMaxDecoded {
		return nil, fmt.Errorf("decoded body over %d bytes", otlpMaxDecoded)
	}
	return out, nil
}

// otlpJSONStrings collects every string of an OTLP JSON body: an
// attribute ({"key": k, "value": {...}}) as k with each string of its
// value, anything else by value. Unknown fields, which MLflow ignores,
// are read too: a superset is safe.
func otlpJSONStrings(v any, key string, out *[]policy.KV) {
	switch t := v.(type) {
	case string:
		*out = append(*out, policy.KV{Key: key, Value: t})
	case []any:
		for _, e := range t {
			otlpJSONStrings(e, key, out)
		}
	case map[string]any:
		if k, ok := t["key"].(string); ok {
			if val, ok := t["value"]; ok {
				*out = append(*out, policy.KV{Value: k})
				otlpJSONStrings(val, k, out)
				for f, e := range t {
					if f != "key" && f != "value" {
						otlpJSONStrings(e, "", out)
					}
				}
				return
			}
		}
		for _, e := range t {
			otlpJSONStrings(e, key, out)
		}
	}
}

// otlpField is what a field number of an OTLP message holds.
type otlpField struct {
	str bool   // a string (judged)
	msg string // a message of this type
}

// otlpSchema: the string and message fields of opentelemetry-proto's
// ExportTraceServiceRequest tree. Bytes ids, numbers and unknown fields
// hold nothing MLflow shows as text; bytes_value is read as a string.
var otlpSchema = map[string]map[protowire.Number]otlpField{
	"request":  {1: {msg: "rspans"}},
	"rspans":   {1: {msg: "resource"}, 2: {msg: "sspans"}, 3: {str: true}},
	"resource": {1: {msg: "kv"}},
	"sspans":   {1: {msg: "scope"}, 2: {msg: "span"}, 3: {str: true}},
	"scope":    {1: {str: true}, 2: {str: true}, 3: {msg: "kv"}},
	"span":     {3: {str: true}, 5: {str: true}, 9: {msg: "kv"}, 11: {msg: "event"}, 13: {msg: "link"}, 15: {msg: "status"}},
	"event":    {2: {str: true}, 3: {msg: "kv"}},
	"link":     {3: {str: true}, 4: {msg: "kv"}},
	"status":   {2: {str: true}},
	"kv":       {1: {str: true}, 2: {msg: "any"}},
	"any":      {1: {str: true}, 5: {msg: "array"}, 6: {msg: "kvlist"}, 7: {str: true}},
	"array":    {1: {msg: "any"}},
	"kvlist":   {1: {msg: "kv"}},
}

var errOTLPShape = errors.New("field of the wrong wire type")

// otlpProtoStrings walks one message of type typ. A known field of the
// wrong wire type, or a string that is not UTF-8, is refused: Python's
// protobuf would not read it the way this walk does.
func otlpProtoStrings(b []byte, typ string, depth int, out *[]policy.KV) error {
	if depth > otlpMaxDepth {
		return fmt.Errorf("nested deeper than %d", otlpMaxDepth)
	}
	fields := otlpSchema[typ]
	var key string // a KeyValue's key, seen before its value in practice
	var kvValues [][]byte
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		f, known := fields[num]
		if !known || wt != protowire.BytesType {
			if known {
				return fmt.Errorf("%s.%d: %w", typ, num, errOTLPShape)
			}
			m := protowire.ConsumeFieldValue(num, wt, b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			b = b[m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		b = b[m:]
		switch {
		case typ == "kv" && num == 1:
			if !utf8.Valid(v) {
				return fmt.Errorf("attribute key is not UTF-8")
			}
			key = string(v)
			*out = append(*out, policy.KV{Value: key})
		case typ == "kv" && num == 2:
			kvValues = append(kvValues, v) // judged with the key below
		case f.str:
			if num == 7 && typ == "any" && !utf8.Valid(v) {
				continue // binary bytes_value: no text to judge
			}
			if !utf8.Valid(v) {
				return fmt.Errorf("%s.%d is not UTF-8", typ, num)
			}
			*out = append(*out, policy.KV{Value: string(v)})
		default:
			if err := otlpProtoStrings(v, f.msg, depth+1, out); err != nil {
				return err
			}
		}
	}
	for _, v := range kvValues {
		var vals []policy.KV
		if err := otlpProtoStrings(v, "any", depth+1, &vals); err != nil {
			return err
		}
		for _, kv := range vals {
			if kv.Key == "" {
				kv.Key = key
			}
			*out = append(*out, kv)
		}
	}
	return nil
}
