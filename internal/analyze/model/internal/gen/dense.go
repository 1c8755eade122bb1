package gen

// Dense is a protocol-4 list of short strings and small ints, memoized,
// appended in batches, with os.system called at the very end so a scanner
// must walk every opcode to see it.
func Dense(size int) []byte {
	p := (&P{}).Proto(4).EmptyList().Memoize()
	for len(p.B) < size {
		p.Mark()
		for j := 0; j < 1000; j++ {
			p.Int(j % 256).Unicode("ab").Memoize().Pop()
		}
		p.Raw('e')
	}
	p.Pop()
	tail := CallGlobal(4, "os", "system", "id")
	return append(p.B, tail[2:]...)
}
