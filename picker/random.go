package picker

// Random starts a piece chosen uniformly among those the peer can give us:
// the baseline seed 000 compares rarest-first against.
type Random struct{}

// Pick implements Picker.
func (Random) Pick(v *View, p Peer) (int, bool) { return randomCandidate(v, p) }

// IgnoresPeers implements PeersIgnorer.
func (Random) IgnoresPeers() bool { return true }
