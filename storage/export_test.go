package storage

// OpenHandles returns the number of file handles s keeps open, for tests
// of the cap.
func OpenHandles(s *Files) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nopen
}
