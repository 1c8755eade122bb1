package gen

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/ulikunitz/xz"
)

// TorchStateDict is the data.pkl of torch.save({"w": tensor}) in the zip
// format: an OrderedDict of _rebuild_tensor_v2 over a persistent storage.
func TorchStateDict(elems int) []byte {
	return (&P{}).Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Put(0).
		Mark().BinUnicode("weight").Global("torch._utils", "_rebuild_tensor_v2").Put(1).
		Mark().Mark().BinUnicode("storage").Global("torch", "FloatStorage").Put(2).BinUnicode("0").BinUnicode("cpu").
		Int(elems).Tuple().BinPersID().Int(0).Int(elems).Tuple1().Int(1).Tuple1().Raw(0x89).
		Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce().SetItems().Stop().B
}

// TorchZip is a torch.save zip: archive/data.pkl, archive/data/0, version.
func TorchZip(pkl []byte, storage []byte) []byte {
	return Zip(
		ZipMember{Name: "archive/data.pkl", Data: pkl},
		ZipMember{Name: "archive/byteorder", Data: []byte("little")},
		ZipMember{Name: "archive/data/0", Data: storage},
		ZipMember{Name: "archive/version", Data: []byte("3\n")},
	)
}

// TorchLegacy is the pre-1.6 format: magic, protocol, sys info, the object
// pickle, the storage keys pickle, then raw storage bytes. payloadAt (1..5)
// replaces that pickle with payload.
func TorchLegacy(payloadAt int, payload []byte) []byte {
	magic := (&P{}).Proto(2).Raw(0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop().B
	proto := (&P{}).Proto(2).Int(1001).Stop().B
	sys := (&P{}).Proto(2).EmptyDict().Mark().BinUnicode("protocol_version").Int(1001).
		BinUnicode("little_endian").Raw(0x88).SetItems().Stop().B
	obj := (&P{}).Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Stop().B
	keys := (&P{}).Proto(2).Mark().BinUnicode("0").Raw('l').Stop().B
	parts := [][]byte{magic, proto, sys, obj, keys}
	if payloadAt >= 1 && payloadAt <= 5 {
		parts[payloadAt-1] = payload
	}
	raw := binary.LittleEndian.AppendUint64(nil, 4)
	raw = append(raw, make([]byte, 16)...)
	return append(bytes.Join(parts, nil), raw...)
}

// Npy builds a .npy file; descr '|O' makes the body a pickle.
func Npy(descr string, body []byte) []byte {
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (1,), }", descr)
	pad := 64 - (10+len(hdr)+1)%64
	hdr += strings.Repeat(" ", pad) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	out = append(out, hdr...)
	return append(out, body...)
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(b)
	_ = w.Close()
	return z.Bytes()
}

// Xz compresses b.
func Xz(b []byte) []byte {
	var z bytes.Buffer
	w, err := xz.NewWriter(&z)
	if err != nil {
		panic(err) // only on invalid writer config, which is fixed here
	}
	_, _ = w.Write(b)
	_ = w.Close()
	return z.Bytes()
}

// Safetensors builds a file with one F32 tensor of n elements.
func Safetensors(n int, corruptOffsets bool) []byte {
	end := n * 4
	if corruptOffsets {
		end += 1000
	}
	hdr := fmt.Sprintf(`{"w":{"dtype":"F32","shape":[%d],"data_offsets":[0,%d]},"__metadata__":{"format":"pt"}}`, n, end)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(out, hdr...)
	return append(out, make([]byte, n*4)...)
}

// KerasConfig is a Keras v3 config.json; lambda nests a Lambda layer two
// levels down (inside a Sequential inside a Functional model).
func KerasConfig(lambda bool) []byte {
	inner := `{"class_name": "Dense", "config": {"name": "dense", "units": 2}}`
	if lambda {
		inner = `{"class_name": "Lambda", "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}`
	}
	return []byte(`{"module": "keras", "class_name": "Functional", "config": {"name": "m", "layers": [` +
		`{"class_name": "Sequential", "config": {"name": "seq", "layers": [` + inner + `]}}]}}`)
}

// Keras is a .keras zip.
func Keras(lambda bool) []byte {
	return Zip(
		ZipMember{Name: "metadata.json", Data: []byte(`{"keras_version": "3.6.0", "date_saved": "2025-01-01"}`)},
		ZipMember{Name: "config.json", Data: KerasConfig(lambda), Deflate: true},
		ZipMember{Name: "model.weights.h5", Data: []byte("\x89HDF\r\n\x1a\n")},
	)
}

// H5 imitates a Keras H5 file: signature, filler, and the model_config
// attribute stored as a plain string (how h5py writes short attributes).
func H5(lambda bool, withConfig bool) []byte {
	out := []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00")
	out = append(out, make([]byte, 500)...)
	if !withConfig {
		// The attribute name without a readable JSON value (as when the
		// value lives in a fractal heap chunk elsewhere, compressed).
		out = append(out, "model_config\x00\x00\x00\x00\x78\x9c\x01\x02"...)
	} else {
		out = append(out, "model_config\x00\x00\x00\x00"...)
		out = append(out, KerasConfig(lambda)...)
		out = append(out, 0)
	}
	return append(out, make([]byte, 200)...)
}

// SavedModelPB is a saved_model.pb fragment naming an op.
func SavedModelPB(op string) []byte {
	out := []byte{0x08, 0x01, 0x12}
	node := append([]byte{0x0a, 4}, "node"...)
	node = append(node, 0x12, byte(len(op)))
	node = append(node, op...)
	out = append(out, byte(len(node)))
	return append(out, node...)
}

// ONNX protobuf building blocks.
func pbVarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }
func pbField(num int, b []byte) []byte {
	out := pbVarint(uint64(num<<3 | 2))
	out = append(out, pbVarint(uint64(len(b)))...)
	return append(out, b...)
}
func pbInt(num int, v uint64) []byte { return append(pbVarint(uint64(num<<3)), pbVarint(v)...) }

// ONNX builds a ModelProto with one node in domain, one initializer and,
// if location is set, external data at that location; sub puts the node
// inside an If node's then_branch.
func ONNX(domain, location string, sub bool) []byte {
	node := bytes.Join([][]byte{pbField(1, []byte("x")), pbField(2, []byte("y")), pbField(4, []byte("Relu")), pbField(7, []byte(domain))}, nil)
	graph := pbField(1, node)
	if sub {
		inner := pbField(1, node)
		attr := bytes.Join([][]byte{pbField(1, []byte("then_branch")), pbField(6, inner), pbInt(20, 5)}, nil)
		ifNode := bytes.Join([][]byte{pbField(4, []byte("If")), pbField(5, attr)}, nil)
		graph = pbField(1, ifNode)
	}
	tensor := bytes.Join([][]byte{pbInt(1, 1), pbInt(2, 1), pbField(8, []byte("w")), pbField(9, make([]byte, 16))}, nil)
	if location != "" {
		entry := bytes.Join([][]byte{pbField(1, []byte("location")), pbField(2, []byte(location))}, nil)
		tensor = bytes.Join([][]byte{pbInt(1, 1), pbField(8, []byte("w")), pbField(13, entry), pbInt(14, 1)}, nil)
	}
	graph = append(graph, pbField(5, tensor)...)
	graph = append(graph, pbField(2, []byte("g"))...)
	opset := pbField(8, bytes.Join([][]byte{pbField(1, []byte("")), pbInt(2, 17)}, nil))
	return bytes.Join([][]byte{pbInt(1, 8), pbField(2, []byte("gen")), pbField(7, graph), opset}, nil)
}

// MLmodel returns MLmodel YAML for a sklearn model in the given format
// plus optional pyfunc extras.
func MLmodel(format, loader, pythonModel, code, modelPath string) []byte {
	var b strings.Builder
	b.WriteString("artifact_path: model\nflavors:\n  python_function:\n")
	fmt.Fprintf(&b, "    loader_module: %s\n", loader)
	fmt.Fprintf(&b, "    model_path: %s\n", modelPath)
	if pythonModel != "" {
		fmt.Fprintf(&b, "    python_model: %s\n", pythonModel)
	}
	if code != "" {
		fmt.Fprintf(&b, "    code: %s\n", code)
	} else {
		b.WriteString("    code: null\n")
	}
	b.WriteString("    python_version: 3.12.3\n  sklearn:\n    code: null\n")
	fmt.Fprintf(&b, "    pickled_model: %s\n    serialization_format: %s\n    sklearn_version: 1.9.1\n", modelPath, format)
	b.WriteString("mlflow_version: 3.17.2\nmodel_uuid: 0f0e0d0c\n")
	return []byte(b.String())
}

// Tar builds a ustar archive of (name, data) pairs in order.
func Tar(pairs ...string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(pairs); i += 2 {
		_ = tw.WriteHeader(&tar.Header{Name: pairs[i], Mode: 0o644, Size: int64(len(pairs[i+1])), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR})
		_, _ = tw.Write([]byte(pairs[i+1]))
	}
	_ = tw.Close()
	return b.Bytes()
}
