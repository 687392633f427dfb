package picker

import (
	"math"
	"math/bits"

	"github.com/swarmlab/swarmlab/bitfield"
)

// Market prices every piece it could start and buys the dearest: seed
// 000's "market mechanism" for piece selection, with its two factors, the
// distribution level and the speed level, made concrete.
//
// For a candidate piece i (the peer has it, we lack it, nobody started it):
//
//	demand(i) = 1 + (peers connected to us that lack i)
//	supply(i) = ε + Σ speed(h) over the connected peers h that have i
//	price(i)  = demand(i)^DemandExp / supply(i)^SupplyExp
//
// and Pick starts the piece with the highest price, ties broken at random
// with View.Rand. The "1 +" in demand counts us: we lack every candidate.
// ε is 1 byte/s, a guard against dividing by zero.
//
// demand is the distribution level, as seed 000 has it: a piece that many
// of our neighbours still need and few hold is worth more than one
// "already distributed evenly". supply is where the speed level comes in:
// a piece held only by slow peers is scarcer than its holder count says,
// because those holders can pass it on only slowly, while a piece held by
// fast peers will spread without our help. The peer we are picking for
// holds every candidate, so its speed is in every supply: picking for a
// fast peer, every piece is cheap to obtain and the demand term decides
// more; picking for a slow one, the other holders' speeds decide more.
//
// With the defaults (DemandExp = SupplyExp = 1) the price is
// demand × PieceLength / supply: roughly how long the current holders
// would need to serve everyone who lacks the piece. So Market starts the
// piece that is the bottleneck of the swarm's distribution as this peer
// sees it. When every peer has the same speed, supply is proportional to
// the holder count and Market picks exactly what rarest-first (Cohen 2003)
// picks; speeds only reorder pieces whose holders are unequally fast.
// SupplyExp = 0 gives rarest-first by demand alone; DemandExp = 0 starts
// the piece with the least upload capacity behind it.
//
// What this optimises, honestly: each pick greedily protects the piece
// whose spread is slowest from where we stand. Nothing here is a real
// market: no peer pays or bids, prices are our estimate, and the effect on
// seed 000's measures (completed peers and bytes over time) is for the lab
// to find out, against rarest-first.
//
// Seed 000's speed level is the upload speed of the peer that would
// *receive* a piece (it is better that a fast uploader gets an important
// piece). A picker only ever picks for one receiver, us, so that factor is
// the same for every candidate and cannot reorder them; it belongs to the
// uploader's side (whom to give rare pieces), not here. What a picker can
// weigh is the speed of the holders, which is what supply does.
//
// Speed. A holder's speed is its estimated upload capacity:
// max(Rate, HavesPerSecond × PieceLength). Rate, what it sends us, is
// direct evidence but only of our share of its upload; HavesPerSecond ×
// PieceLength is its download rate, which BitTyrant (Piatek et al., NSDI
// 2007) takes as a proxy for its upload capacity and which is on the same
// scale for every peer. Taking the larger keeps peers that serve us from
// looking slower than peers we only hear HAVEs from. A peer with neither
// (just connected, or a seed, whose piece count cannot grow) gets the mean
// of the known speeds, or 1 when none is known: unknown is not slow.
//
// Speed levels. To keep a pick cheap, speeds are rounded to levels 1..63
// in units of the fastest partial holder's speed / 63 (seed 000's "speed
// level", literally). Seeds and the peer we pick for hold every candidate,
// so their exact speeds go into a base added to every supply and are not
// rounded. The per-piece sums of levels are then computed 64 pieces at a
// time with bit-sliced counters (one uint64 per bit of the sum), which
// makes a pick O(words × peers × log peers) word operations plus
// O(candidates × log peers) to read the sums, instead of O(pieces × peers)
// for the plain loop; log peers is the number of bits in 63 × peers, about
// 12 for 50 peers.
//
// Without View.Peers (a driver that does not fill it) there are no
// speeds and no demand to price, and Market is rarest-first. Until we hold
// RandomFirst pieces it picks at random, as Rarest does and for the same
// reason.
type Market struct {
	// DemandExp and SupplyExp weigh the distribution level against the
	// speed level; 1 and 1 by default.
	DemandExp, SupplyExp float64
	// RandomFirst: pick at random until we hold this many pieces (4).
	RandomFirst int
}

// NewMarket returns the default market: price = demand / supply, random
// until we hold 4 pieces.
func NewMarket() Market { return Market{DemandExp: 1, SupplyExp: 1, RandomFirst: 4} }

const (
	// speedLevels is the top speed level: 6 bits per peer.
	speedLevels = 63
	levelBits   = 6
	// epsilon keeps supply positive, in bytes/s.
	epsilon = 1.0
	// priceTolerance makes prices equal up to rounding a tie.
	priceTolerance = 1e-9
)

// holder is a peer with some but not all pieces, and its speed level.
type holder struct {
	has   *bitfield.Bitfield
	level uint64
}

// Pick implements Picker.
func (m Market) Pick(v *View, p Peer) (int, bool) {
	if v.Have.Count() < m.RandomFirst {
		return randomCandidate(v, p)
	}
	if len(v.Peers) == 0 {
		return Rarest{}.Pick(v, p)
	}
	base, unit, holders := m.levels(v, p)
	// A piece's level sum is at most speedLevels × len(holders).
	var planes [64]uint64
	sum := planes[:bits.Len64(uint64(speedLevels*len(holders)))]

	best, bestPrice, ties := -1, 0.0, 0
	for i := range p.Has.Words() {
		cand := candidates(v, p, i)
		if cand == 0 {
			continue
		}
		// sum[j] holds bit j of the level sums of this word's 64 pieces:
		// bit k of sum[j] belongs to piece i<<6 + k.
		clear(sum)
		for _, h := range holders {
			if w := h.has.Word(i) & cand; w != 0 {
				addLevel(sum, w, h.level)
			}
		}
		for w := cand; w != 0; w &= w - 1 {
			k := bits.TrailingZeros64(w)
			piece := i<<6 + k
			var levels uint64
			for j := range sum {
				levels |= (sum[j] >> k & 1) << j
			}
			price := m.price(v, piece, base+float64(levels)*unit)
			tol := priceTolerance * math.Abs(bestPrice)
			switch {
			case best < 0 || price > bestPrice+tol:
				best, bestPrice, ties = piece, price, 1
			case price >= bestPrice-tol:
				// Reservoir sampling: each of the ties so far is kept
				// with probability 1/ties, so the winner is uniform.
				ties++
				if v.Rand.IntN(ties) == 0 {
					best = piece
				}
			}
		}
	}
	return best, best >= 0
}

// price orders candidates as demand^DemandExp / supply^SupplyExp does. The
// default exponents take the quotient itself; others compare logs, which
// keeps large exponents from overflowing. (Two logs per candidate would
// cost more than all the summing.)
func (m Market) price(v *View, piece int, supply float64) float64 {
	demand := float64(1 + max(0, len(v.Peers)-v.Avail.Count(piece)))
	if m.DemandExp == 1 && m.SupplyExp == 1 {
		return demand / supply
	}
	return m.DemandExp*math.Log(demand) - m.SupplyExp*math.Log(supply)
}

// levels estimates every peer's speed and returns the supply every
// candidate shares (ε, the peer we pick for and the seeds), the bytes/s
// of one speed level, and the partial holders with their levels.
func (m Market) levels(v *View, p Peer) (base, unit float64, holders []holder) {
	raw := func(q *Peer) float64 { return max(q.Rate, q.HavesPerSecond*float64(v.PieceLength)) }
	known, n := 0.0, 0
	for i := range v.Peers {
		if s := raw(&v.Peers[i]); s > 0 {
			known += s
			n++
		}
	}
	prior := 1.0
	if n > 0 {
		prior = known / float64(n)
	}
	speed := func(q *Peer) float64 {
		if s := raw(q); s > 0 {
			return s
		}
		return prior
	}

	base = epsilon
	self, fastest := false, 0.0
	for i := range v.Peers {
		q := &v.Peers[i]
		switch {
		case q.Has == p.Has:
			self = true
			base += speed(q)
		case q.Has.All():
			base += speed(q)
		default:
			fastest = max(fastest, speed(q))
		}
	}
	if !self {
		// The engine lists the peer we pick for among View.Peers; if it
		// did not, its speed still belongs in every supply.
		base += speed(&p)
	}
	unit = fastest / speedLevels
	holders = make([]holder, 0, len(v.Peers))
	for i := range v.Peers {
		q := &v.Peers[i]
		if q.Has == p.Has || q.Has.All() {
			continue
		}
		level := uint64(math.Round(speed(q) / unit))
		holders = append(holders, holder{has: q.Has, level: min(max(level, 1), speedLevels)})
	}
	return base, unit, holders
}

// addLevel adds level to the bit-sliced counters of the pieces in mask: a
// ripple-carry adder run on 64 counters at once, where sum[j] holds bit j
// of every counter. Above the level's bits it only carries, and stops as
// soon as no counter carries: usually within a plane or two, at worst at
// the top plane, so one addition costs levelBits to len(sum) steps.
func addLevel(sum []uint64, mask, level uint64) {
	var carry uint64
	for j := range sum {
		var b uint64
		if j < levelBits && level>>j&1 == 1 {
			b = mask
		}
		if j >= levelBits && carry == 0 {
			return
		}
		a := sum[j]
		sum[j] = a ^ b ^ carry
		carry = a&b | carry&(a^b)
	}
}
