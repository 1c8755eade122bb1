package model_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

// fuzzOne runs the analyzer on b saved under name; any panic fails.
func fuzzOne(t *testing.T, name string, b []byte) {
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	head := b
	if len(head) > analyze.HeadSize {
		head = head[:analyze.HeadSize]
	}
	f := &analyze.File{Path: name, Abs: p, Size: int64(len(b)), Head: head, Root: dir}
	a := model.New(analyze.Options{})
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		if a.Relevant(f) {
			a.Analyze(context.Background(), f)
		}
	}()
	// Adversarial inputs must finish in seconds; a stall is a finding.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d-byte input still running after %v", len(b), time.Since(start))
	}
}

func FuzzZip(f *testing.F) {
	f.Add(gen.TorchZip(gen.TorchStateDict(2), make([]byte, 8)))
	f.Add(gen.Zip(gen.ZipMember{Name: "a/config.json", Data: gen.KerasConfig(true), Deflate: true}, gen.ZipMember{Name: "a/metadata.json", Data: []byte("{}")}))
	f.Add(gen.Zip(gen.ZipMember{Name: "x", LocalName: "../y", Data: gen.Npy("|O", gen.CallGlobal(2, "os", "system", "x")), BadCRC: true}))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, "m.zip", b) })
}

func FuzzFormats(f *testing.F) {
	f.Add(gen.Npy("|O", gen.CallGlobal(4, "os", "system", "x")))
	f.Add(gen.Gzip(gen.CallGlobal(2, "os", "system", "x")))
	f.Add(gen.Xz(gen.TorchZip(gen.TorchStateDict(2), nil)))
	f.Add(gen.Safetensors(3, false))
	f.Add(gen.ONNX("my.dom", "../x", true))
	f.Add(gen.H5(true, true))
	f.Add(gen.TorchLegacy(3, gen.CallGlobal(2, "os", "system", "x")))
	// joblib's other compressors and the old ZF format, a pickle without
	// PROTO, a zip behind prepended data.
	f.Add([]byte("\x04\x22\x4d\x18\x64\x40\xa7\x05\x00\x00\x80hello\x00\x00\x00\x00"))
	f.Add(append([]byte("ZF0x1f               "), zlibOf(gen.CallGlobal(2, "os", "system", "x"))...))
	f.Add(append([]byte{0x5d, 0, 0x23, 1, 0}, make([]byte, 20)...))
	f.Add(gen.CallGlobal(4, "os", "system", "x")[2:])
	f.Add(append(bytes.Repeat([]byte("#!/bin/sh\n"), 10), gen.TorchZip(gen.TorchStateDict(2), nil)...))
	f.Add(gen.Npy("object", gen.CallGlobal(2, "os", "system", "x")))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, "model.bin", b) })
}

func FuzzMLmodel(f *testing.F) {
	f.Add(gen.MLmodel("cloudpickle", "mlflow.sklearn", "python_model.pkl", "code", "../m.pkl"))
	f.Add([]byte("flavors: [1, 2]\n"))
	seeds, _ := filepath.Glob("testdata/mlmodel/*")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, "d/MLmodel", b) })
}

func FuzzTar(f *testing.F) {
	f.Add(gen.Tar("a.pkl", string(gen.CallGlobal(2, "os", "system", "x")), "b.zip", string(gen.TorchZip(gen.TorchStateDict(2), nil))))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzOne(t, "m.tar", b) })
}

func zlibOf(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}
