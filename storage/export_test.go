package storage

// OpenHandles returns the number of file handles s keeps open, for tests
// of the cap.
func OpenHandles(s *Files) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nopen
}

// DirectHandles returns how many of s's open files have a twin opened for
// direct writes, so tests can tell that the direct path was taken.
func DirectHandles(s *Files) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for h := s.lru.head.next; h != &s.lru.head; h = h.next {
		if h.direct != nil {
			n++
		}
	}
	return n
}
