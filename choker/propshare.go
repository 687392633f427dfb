package choker

import (
	"slices"
	"time"
)

// PropShare is the proportional-share choker of Levin, LaCurts, Spring and
// Bhattacharjee, "BitTorrent is an Auction: Analyzing and Improving
// BitTorrent's Incentives" (SIGCOMM 2008). They model a BitTorrent round
// as an auction in which peers bid with the upload they gave us, and show
// that tit-for-tat's prize (an equal share to each of the top k bidders)
// can be gamed: giving a TFT peer a little more than its k-th best partner
// wins as much as giving it a lot, which is what BitTyrant exploits.
// Paying each bidder in proportion to its bid removes that: upload more
// to us, get proportionally more back. Within their model they prove the
// proportional share strategy-proof, and measure it downloading faster
// than BitTorrent and BitTyrant clients.
//
// Every round, each interested peer p that sent us data last round
// (DownRate > 0) is unchoked with
//
//	Rate_p = (1 − Optimistic) × UploadCapacity × down_p / Σ down
//
// the sum over those peers, so their rates add up to (1 − Optimistic) ×
// UploadCapacity. Peers that gave us data but want nothing from us cannot
// be paid and are left out of the sum. The remaining Optimistic (0.1)
// share of our capacity goes to one interested peer that gave us nothing,
// drawn at random each round and, when there is a choice, not the one of
// the last round: the optimistic unchoke that lets newcomers bootstrap and
// lets us discover better partners. When there is no such peer the
// contributors share the whole capacity.
//
// When nobody interested gave us anything — at the start, or when we seed
// and nobody can — there is nothing to be proportional to, and PropShare
// splits its capacity equally among up to Slots (4) interested peers drawn
// at random each round, so that over time every peer is served.
//
// UploadCapacity 0 (unknown) means every Rate is 0, no caps: the
// contributors and the optimistic peer are still unchoked and the
// transport splits the upload, which loses the proportionality; give the
// lab an UploadCapacity to study PropShare.
//
// Random draws happen once per round (a call at least Every after the
// last round began); an early rechoke in between keeps the round's
// optimistic and equal-split peers while they stay interested, and
// replaces only those that left.
type PropShare struct {
	// Every is the round length (DefaultInterval when zero).
	Every time.Duration
	// Optimistic is the fraction of capacity for the optimistic unchoke.
	Optimistic float64
	// Slots is how many peers share the capacity equally when nobody
	// has given us anything.
	Slots int

	round      rounds
	optimistic []Conn // the optimistic peer of this round (at most one)
	previous   []Conn // the optimistic peer of the round before (at most one)
	equal      []Conn // this round's equal-split peers
}

// NewPropShare returns the default configuration: a 10 s round, 10% of
// capacity for the optimistic unchoke, equal split among 4 when nobody
// has given us anything.
func NewPropShare() *PropShare {
	return &PropShare{Every: DefaultInterval, Optimistic: 0.1, Slots: 4}
}

// Interval implements Choker.
func (c *PropShare) Interval() time.Duration { return every(c.Every) }

// Rechoke implements Choker.
func (c *PropShare) Rechoke(v *View, dst []Unchoke) []Unchoke {
	newRound := c.round.next(v.Now, c.Interval())
	contributes := func(p *Peer) bool { return p.Interested && p.DownRate > 0 }
	total := 0.0
	for i := range v.Peers {
		if p := &v.Peers[i]; contributes(p) {
			total += p.DownRate
		}
	}

	if total == 0 {
		c.optimistic = c.optimistic[:0]
		if newRound {
			c.equal = c.equal[:0]
		}
		c.equal = draw(v, c.equal, max(c.Slots, 0), interested, nil)
		for _, i := range locate(v, c.equal) {
			dst = append(dst, Unchoke{Index: i, Rate: v.UploadCapacity / float64(len(c.equal))})
		}
		return dst
	}
	c.equal = c.equal[:0]

	freeRider := func(p *Peer) bool { return p.Interested && p.DownRate <= 0 }
	if c.Optimistic > 0 {
		if newRound {
			if len(c.optimistic) > 0 {
				c.previous = append(c.previous[:0], c.optimistic...)
			}
			c.optimistic = c.optimistic[:0]
		}
		c.optimistic = draw(v, c.optimistic, 1, freeRider, c.previous)
	} else {
		c.optimistic = c.optimistic[:0]
	}
	share := 1 - c.Optimistic
	if len(c.optimistic) == 0 {
		share = 1
	}
	for i := range v.Peers {
		if p := &v.Peers[i]; contributes(p) {
			dst = append(dst, Unchoke{Index: i, Rate: share * v.UploadCapacity * p.DownRate / total})
		}
	}
	for _, i := range locate(v, c.optimistic) {
		dst = append(dst, Unchoke{Index: i, Rate: c.Optimistic * v.UploadCapacity})
	}
	return dst
}

// draw keeps the peers of set that are still connected and eligible and
// tops the set up to n with eligible peers drawn at random, avoiding the
// peers in avoid while others are left.
func draw(v *View, set []Conn, n int, eligible func(*Peer) bool, avoid []Conn) []Conn {
	in := make(map[Conn]bool, len(set))
	kept := set[:0]
	for _, i := range locate(v, set) {
		if eligible(&v.Peers[i]) {
			kept = append(kept, v.Peers[i].Conn)
			in[v.Peers[i].Conn] = true
		}
	}
	var pool, fallback []Conn
	for i := range v.Peers {
		p := &v.Peers[i]
		switch {
		case !eligible(p) || in[p.Conn]:
		case slices.Contains(avoid, p.Conn):
			fallback = append(fallback, p.Conn)
		default:
			pool = append(pool, p.Conn)
		}
	}
	for len(kept) < n && len(pool) > 0 {
		k := v.Rand.IntN(len(pool))
		kept = append(kept, pool[k])
		pool[k] = pool[len(pool)-1]
		pool = pool[:len(pool)-1]
	}
	if len(kept) < n {
		kept = append(kept, fallback[:min(n-len(kept), len(fallback))]...)
	}
	return kept
}

// locate returns the indexes in v.Peers of the connections in set that
// are still connected, in the order of set.
func locate(v *View, set []Conn) []int {
	var out []int
	for _, conn := range set {
		for i := range v.Peers {
			if v.Peers[i].Conn == conn {
				out = append(out, i)
				break
			}
		}
	}
	return out
}
