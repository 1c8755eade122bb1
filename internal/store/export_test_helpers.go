package store

// TamperForTest runs raw SQL against the store so tests in other packages
// can simulate an attacker editing the database. Not used by the program.
func (s *Store) TamperForTest(q string) error {
	_, err := s.db.Exec(q)
	return err
}
