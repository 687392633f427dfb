package choker

import (
	"slices"
	"time"
)

// DefaultInterval is the rechoke period of mainline BitTorrent (Cohen
// 2003), which every choker here uses unless told otherwise: long enough
// for TCP to reach its rate after an unchoke, short enough to follow
// changes in the swarm.
const DefaultInterval = 10 * time.Second

// every returns d, or DefaultInterval when d is zero.
func every(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultInterval
}

// rounds tells full choking rounds from the early rechokes a driver may
// run in between (when a peer becomes interested or leaves). Strategies
// that learn from what happened over a round — BitTyrant's u_p, the
// rotation of an optimistic unchoke — must learn once per round, and the
// View does not say which call is which. A call is a new round when it is
// the first or at least one interval has passed since the last round
// began, the rule the engine uses to close its rate windows.
type rounds struct {
	started bool
	last    time.Duration
}

// next reports whether a call at now starts a new round, and records it.
func (r *rounds) next(now, interval time.Duration) bool {
	if r.started && now-r.last < interval {
		return false
	}
	r.started, r.last = true, now
	return true
}

// rank returns the indexes of the peers keep accepts, ordered by key,
// highest first; a shuffle with v.Rand before the stable sort breaks ties
// at random rather than by connection order.
func rank(v *View, keep func(*Peer) bool, key func(int) float64) []int {
	var out []int
	for i := range v.Peers {
		if keep(&v.Peers[i]) {
			out = append(out, i)
		}
	}
	v.Rand.Shuffle(len(out), func(a, b int) { out[a], out[b] = out[b], out[a] })
	slices.SortStableFunc(out, func(a, b int) int {
		ka, kb := key(a), key(b)
		switch {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return 0
	})
	return out
}

func interested(p *Peer) bool { return p.Interested }
