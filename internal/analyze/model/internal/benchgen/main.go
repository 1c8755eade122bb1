// Command benchgen writes the model benchmark inputs into a directory:
// an opcode-dense 10 MB pickle, 1 GB and 1 MB torch zip checkpoints that
// share one data.pkl, and 1,000 small models in fixture families.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchgen OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(filepath.Join(out, "many"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "dense.pkl"), gen.Dense(10<<20), 0o644); err != nil {
		return err
	}
	pkl := gen.TorchStateDict(1 << 28 / 4)
	for name, size := range map[string]int64{"ckpt_1g.pt": 1 << 30, "ckpt_1m.pt": 1 << 20} {
		if err := checkpoint(filepath.Join(out, name), pkl, size); err != nil {
			return err
		}
	}
	fams := gen.Families()
	per := 1000 / len(fams)
	for _, f := range fams {
		dir := filepath.Join(out, "many", f.Slug())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for i := 0; i < per; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(f.File, i)), f.Make(i), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkpoint streams a stored zip: archive/data.pkl + archive/data/0 of
// size bytes, without holding the storage in memory.
func checkpoint(path string, pkl []byte, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	type ent struct {
		name string
		crc  uint32
		size int64
		off  int64
	}
	var ents []ent
	var off int64
	le16 := func(v uint16) { _ = binary.Write(w, binary.LittleEndian, v) }
	le32 := func(v uint32) { _ = binary.Write(w, binary.LittleEndian, v) }
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	crcData := uint32(0)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		crcData = crc32.Update(crcData, crc32.IEEETable, chunk[:min(int64(len(chunk)), size-n)])
	}
	write := func(name string, crc uint32, n int64, body func() error) error {
		ents = append(ents, ent{name, crc, n, off})
		le32(0x04034b50)
		le16(20)
		le16(0)
		le16(0)
		le16(0)
		le16(0)
		le32(crc)
		le32(uint32(n))
		le32(uint32(n))
		le16(uint16(len(name)))
		le16(0)
		_, _ = w.WriteString(name)
		if err := body(); err != nil {
			return err
		}
		off += 30 + int64(len(name)) + n
		return nil
	}
	if err := write("archive/data.pkl", crc32.ChecksumIEEE(pkl), int64(len(pkl)), func() error { _, err := w.Write(pkl); return err }); err != nil {
		return err
	}
	if err := write("archive/data/0", crcData, size, func() error {
		for n := int64(0); n < size; n += int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(int64(len(chunk)), size-n)]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := write("archive/version", crc32.ChecksumIEEE([]byte("3\n")), 2, func() error { _, err := w.WriteString("3\n"); return err }); err != nil {
		return err
	}
	cdOff := off
	cdLen := int64(0)
	for _, e := range ents {
		le32(0x02014b50)
		le16(20)
		le16(20)
		le16(0)
		le16(0)
		le16(0)
		le16(0)
		le32(e.crc)
		le32(uint32(e.size))
		le32(uint32(e.size))
		le16(uint16(len(e.name)))
		le16(0)
		le16(0)
		le16(0)
		le16(0)
		le32(0)
		le32(uint32(e.off))
		_, _ = w.WriteString(e.name)
		cdLen += 46 + int64(len(e.name))
	}
	le32(0x06054b50)
	le16(0)
	le16(0)
	le16(uint16(len(ents)))
	le16(uint16(len(ents)))
	le32(uint32(cdLen))
	le32(uint32(cdOff))
	le16(0)
	return w.Flush()
}
