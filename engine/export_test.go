package engine

// RequestedRecount returns the engine's count of requested blocks and
// the same counted afresh over the pieces under way; tests check they
// agree.
func (t *Torrent) RequestedRecount() (kept, counted int) {
	for _, pp := range t.active {
		for b := range pp.blocks() {
			if pp.block(b).state == blockRequested {
				counted++
			}
		}
	}
	return t.requested, counted
}
