package choker

import (
	"math"
	"time"
)

// BitTyrant is the strategic choker of Piatek, Isdal, Anderson,
// Krishnamurthy and Venkataramani, "Do incentives build robustness in
// BitTorrent?" (NSDI 2007). Its aim is the most download per byte of
// upload, not fairness: it buys reciprocation from the peers that give
// most per byte we spend on them, pays each no more than it has to, and
// gives nothing away.
//
// For every peer p it keeps two estimates:
//
//   - d_p, the rate p uploads to us when it reciprocates: the DownRate we
//     measured, when p sends us anything; otherwise p's equal-split rate,
//     its estimated capacity / ActiveSet. A tit-for-tat peer splits its
//     upload equally among its active set, and its capacity is estimated,
//     as in the paper, from how fast it announces pieces: HavesPerSecond ×
//     PieceLength (a peer's download rate, taken as its upload capacity).
//   - u_p, the upload rate p needs from us to reciprocate. It starts at
//     the same equal-split rate (to enter a TFT peer's active set we must
//     give it about what its other partners give, and they are, on
//     average, peers like it) and is learnt: after a round in which we
//     uploaded to p and p sent us nothing, u_p ×= 1 + Increase (1.2);
//     after each round that ends a run of Rounds (3) or more rounds in
//     which p sent us data, u_p ×= 1 − Decrease (0.9), to find the least
//     that keeps p reciprocating.
//
// Every round it ranks the interested peers by d_p / u_p, highest first
// (ties at random), and unchokes them in that order while the sum of
// their u_p stays within UploadCapacity, each with Rate u_p: a cap that
// keeps it from spending more on p than p's reciprocation is worth. It
// stops at the first peer that does not fit, as the paper's algorithm
// does. If even the best peer's u_p exceeds our capacity it still
// unchokes that one, at our whole capacity, rather than nobody. When
// UploadCapacity is unknown (0) it unchokes the Slots (4) best by ratio,
// still capped at u_p. There is no optimistic unchoke: BitTyrant's point
// is that optimistic unchokes are altruism that rarely pays back.
//
// Peers we know nothing about (no HAVE rate yet: newcomers, and seeds,
// whose piece count cannot grow) get the mean capacity of the peers we
// can estimate, or our own UploadCapacity when we can estimate none: we
// assume they are like the swarm. Their u_p is replaced by their own
// equal-split rate once their HAVE rate is known, unless it has been
// learnt by then.
//
// Estimates are updated once per round (a call at least Every after the
// last round began); the early rechokes a driver runs in between re-rank
// on the current estimates. State is kept per Conn and dropped when a
// peer leaves.
//
// Seeding, nobody reciprocates, the ratios mean nothing and u_p would
// only grow, so estimates are frozen and BitTyrant unchokes the Slots
// interested peers we upload to fastest, uncapped, like TitForTat seeding
// but with no optimistic unchoke.
type BitTyrant struct {
	// Every is the round length (DefaultInterval when zero).
	Every time.Duration
	// ActiveSet is the active-set size assumed for other peers when
	// turning a capacity into an equal-split rate (4, mainline's regular
	// unchoke slots).
	ActiveSet int
	// Slots is how many peers to unchoke when UploadCapacity is unknown,
	// and when seeding (4).
	Slots int
	// Increase (δ = 0.2), Decrease (γ = 0.1) and Rounds (r = 3) are the
	// paper's adjustment of u_p.
	Increase, Decrease float64
	Rounds             int

	peers map[Conn]*tyrant
	round rounds
	seen  uint64 // generation, to find the peers that left
}

// tyrant is what BitTyrant remembers about one peer.
type tyrant struct {
	u      float64 // upload rate p needs from us to reciprocate, bytes/s
	prior  bool    // u is the swarm prior, not p's own estimate or learnt
	streak int     // consecutive rounds in which p sent us data
	seen   uint64
}

// minUpload keeps u_p from decaying to zero (a Rate of 0 means uncapped).
const minUpload = 1.0

// NewBitTyrant returns the paper's configuration.
func NewBitTyrant() *BitTyrant {
	return &BitTyrant{
		Every: DefaultInterval, ActiveSet: 4, Slots: 4,
		Increase: 0.2, Decrease: 0.1, Rounds: 3,
	}
}

// Interval implements Choker.
func (c *BitTyrant) Interval() time.Duration { return every(c.Every) }

// Rechoke implements Choker.
func (c *BitTyrant) Rechoke(v *View, dst []Unchoke) []Unchoke {
	newRound := c.round.next(v.Now, c.Interval())
	prior := c.priorCapacity(v)
	c.seen++
	if c.peers == nil {
		c.peers = make(map[Conn]*tyrant)
	}
	states := make([]*tyrant, len(v.Peers))
	for i := range v.Peers {
		p := &v.Peers[i]
		own := p.HavesPerSecond * float64(v.PieceLength)
		st := c.peers[p.Conn]
		switch {
		case st == nil && own > 0:
			st = &tyrant{u: own / c.activeSet()}
		case st == nil:
			st = &tyrant{u: prior / c.activeSet(), prior: true}
		case (st.prior || st.u <= 0) && own > 0:
			// Its own estimate replaces the swarm's prior, or nothing.
			st.u, st.prior = own/c.activeSet(), false
		}
		c.peers[p.Conn] = st
		st.seen = c.seen
		states[i] = st
		if newRound && !v.Seeding {
			c.learn(p, st)
		}
	}
	for conn, st := range c.peers {
		if st.seen != c.seen {
			delete(c.peers, conn)
		}
	}

	if v.Seeding {
		ranked := rank(v, interested, func(i int) float64 { return v.Peers[i].UpRate })
		for _, i := range ranked[:min(c.Slots, len(ranked))] {
			dst = append(dst, Unchoke{Index: i})
		}
		return dst
	}

	ratio := make([]float64, len(v.Peers))
	for i := range v.Peers {
		ratio[i] = c.ratio(v, &v.Peers[i], states[i], prior)
	}
	ranked := rank(v, interested, func(i int) float64 { return ratio[i] })
	if v.UploadCapacity <= 0 {
		for _, i := range ranked[:min(c.Slots, len(ranked))] {
			dst = append(dst, Unchoke{Index: i, Rate: states[i].u})
		}
		return dst
	}
	spent := 0.0
	for k, i := range ranked {
		u := states[i].u
		if spent+u > v.UploadCapacity {
			if k == 0 {
				dst = append(dst, Unchoke{Index: i, Rate: v.UploadCapacity})
			}
			break
		}
		spent += u
		dst = append(dst, Unchoke{Index: i, Rate: u})
	}
	return dst
}

// learn applies the paper's update of u_p for the round just ended.
func (c *BitTyrant) learn(p *Peer, st *tyrant) {
	if p.DownRate > 0 {
		st.streak++
	} else {
		st.streak = 0
	}
	switch {
	case p.DownRate <= 0 && p.UpRate > 0:
		st.u *= 1 + c.Increase
		st.prior = false
	case st.streak >= c.Rounds:
		st.u = max(st.u*(1-c.Decrease), minUpload)
		st.prior = false
	}
}

// ratio is d_p / u_p: the download we expect from p per byte of upload it
// needs.
func (c *BitTyrant) ratio(v *View, p *Peer, st *tyrant, prior float64) float64 {
	d := p.DownRate
	if d <= 0 {
		capacity := p.HavesPerSecond * float64(v.PieceLength)
		if capacity <= 0 {
			capacity = prior
		}
		d = capacity / c.activeSet()
	}
	switch {
	case st.u > 0:
		return d / st.u
	case d > 0:
		return math.Inf(1)
	}
	return 0
}

// priorCapacity is the capacity assumed for a peer with no HAVE rate: the
// mean of those we can estimate, or our own capacity.
func (c *BitTyrant) priorCapacity(v *View) float64 {
	sum, n := 0.0, 0
	for i := range v.Peers {
		if r := v.Peers[i].HavesPerSecond; r > 0 {
			sum += r * float64(v.PieceLength)
			n++
		}
	}
	if n == 0 {
		return v.UploadCapacity
	}
	return sum / float64(n)
}

func (c *BitTyrant) activeSet() float64 { return float64(max(c.ActiveSet, 1)) }
