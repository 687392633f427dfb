package picker

import "math/bits"

// Sequential starts the lowest-numbered piece the peer can give us: in
// order reading, as a streaming player or seed 004's auditor wants.
type Sequential struct{}

// IgnoresPeers implements PeersIgnorer.
func (Sequential) IgnoresPeers() bool { return true }

// Pick implements Picker.
func (Sequential) Pick(v *View, p Peer) (int, bool) {
	for i := range p.Has.Words() {
		if w := candidates(v, p, i); w != 0 {
			return i<<6 + bits.TrailingZeros64(w), true
		}
	}
	return 0, false
}
