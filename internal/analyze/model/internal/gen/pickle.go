// Package gen builds model fixtures byte by byte (no torch, no network):
// pickles for every opcode family, the containers that carry them, and the
// public scanner-bypass shapes. Tests and examples are generated from it.
package gen

import (
	"encoding/binary"
	"fmt"
)

// P builds a pickle stream opcode by opcode.
type P struct{ B []byte }

func (p *P) op(b ...byte) *P { p.B = append(p.B, b...); return p }

func (p *P) Proto(v byte) *P { return p.op(0x80, v) }
func (p *P) Stop() *P        { return p.op('.') }
func (p *P) Mark() *P        { return p.op('(') }
func (p *P) Reduce() *P      { return p.op('R') }
func (p *P) Build() *P       { return p.op('b') }
func (p *P) NewObj() *P      { return p.op(0x81) }
func (p *P) NewObjEx() *P    { return p.op(0x92) }
func (p *P) Obj() *P         { return p.op('o') }
func (p *P) Tuple() *P       { return p.op('t') }
func (p *P) Tuple1() *P      { return p.op(0x85) }
func (p *P) Tuple2() *P      { return p.op(0x86) }
func (p *P) EmptyTuple() *P  { return p.op(')') }
func (p *P) EmptyDict() *P   { return p.op('}') }
func (p *P) EmptyList() *P   { return p.op(']') }
func (p *P) None() *P        { return p.op('N') }
func (p *P) Pop() *P         { return p.op('0') }
func (p *P) Dup() *P         { return p.op('2') }
func (p *P) SetItem() *P     { return p.op('s') }
func (p *P) SetItems() *P    { return p.op('u') }
func (p *P) Append() *P      { return p.op('a') }
func (p *P) Memoize() *P     { return p.op(0x94) }
func (p *P) StackGlobal() *P { return p.op(0x93) }
func (p *P) BinPersID() *P   { return p.op('Q') }
func (p *P) Raw(b ...byte) *P {
	return p.op(b...)
}

// Global is protocol 0-3 GLOBAL.
func (p *P) Global(mod, name string) *P { return p.op('c').str(mod + "\n" + name + "\n") }

// Inst is protocol 0 INST (args above a mark already pushed).
func (p *P) Inst(mod, name string) *P { return p.op('i').str(mod + "\n" + name + "\n") }

func (p *P) str(s string) *P { p.B = append(p.B, s...); return p }

// Unicode pushes with the shortest binary unicode opcode.
func (p *P) Unicode(s string) *P {
	if len(s) < 256 {
		return p.op(0x8c, byte(len(s))).str(s)
	}
	return p.op('X').u32(len(s)).str(s)
}

// BinUnicode always uses 4-byte BINUNICODE.
func (p *P) BinUnicode(s string) *P { return p.op('X').u32(len(s)).str(s) }

// BinUnicode8 uses the 8-byte form.
func (p *P) BinUnicode8(s string) *P { return p.op(0x8d).u64(uint64(len(s))).str(s) }

// String is protocol-0 STRING with quotes.
func (p *P) String(s string) *P { return p.op('S').str("'" + s + "'\n") }

// TextUnicode is protocol-0 UNICODE.
func (p *P) TextUnicode(s string) *P { return p.op('V').str(s + "\n") }

// ShortBinString is SHORT_BINSTRING.
func (p *P) ShortBinString(s string) *P { return p.op('U', byte(len(s))).str(s) }

// BinString is BINSTRING.
func (p *P) BinString(s string) *P { return p.op('T').u32(len(s)).str(s) }

// ShortBinBytes is SHORT_BINBYTES.
func (p *P) ShortBinBytes(b []byte) *P { return p.op('C', byte(len(b))).op(b...) }

func (p *P) Int(v int) *P {
	if v >= 0 && v < 256 {
		return p.op('K', byte(v))
	}
	return p.op('J').u32(v)
}

func (p *P) Put(i int) *P {
	if i < 256 {
		return p.op('q', byte(i))
	}
	return p.op('r').u32(i)
}

func (p *P) Get(i int) *P {
	if i < 256 {
		return p.op('h', byte(i))
	}
	return p.op('j').u32(i)
}

func (p *P) TextPut(i int) *P  { return p.op('p').str(fmt.Sprintf("%d\n", i)) }
func (p *P) TextGet(i int) *P  { return p.op('g').str(fmt.Sprintf("%d\n", i)) }
func (p *P) Ext1(code byte) *P { return p.op(0x82, code) }
func (p *P) Ext2(code uint16) *P {
	return p.op(0x83, byte(code), byte(code>>8))
}
func (p *P) PersID(s string) *P { return p.op('P').str(s + "\n") }

// Frame emits FRAME n.
func (p *P) Frame(n uint64) *P { return p.op(0x95).u64(n) }

func (p *P) u32(v int) *P {
	p.B = binary.LittleEndian.AppendUint32(p.B, uint32(v))
	return p
}

func (p *P) u64(v uint64) *P {
	p.B = binary.LittleEndian.AppendUint64(p.B, v)
	return p
}

// CallGlobal is the classic payload: GLOBAL mod name, (arg,), REDUCE.
func CallGlobal(proto byte, mod, name, arg string) []byte {
	p := &P{}
	if proto >= 2 {
		p.Proto(proto)
	}
	if proto >= 4 {
		p.Unicode(mod).Unicode(name).StackGlobal()
	} else {
		p.Global(mod, name)
	}
	switch {
	case proto >= 4:
		p.Unicode(arg).Tuple1()
	case proto >= 2:
		p.BinUnicode(arg).Tuple1()
	case proto == 1:
		p.Mark().BinUnicode(arg).Tuple()
	default:
		p.Mark().String(arg).Tuple()
	}
	return p.Reduce().Stop().B
}
