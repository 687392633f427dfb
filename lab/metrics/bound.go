package metrics

import (
	"fmt"
	"math"

	"github.com/swarmlab/swarmlab/lab"
)

// FlashCrowdSpread is how far apart, as a fraction of T_min, the
// leechers' joins may be for a run to count as a flash crowd. The bound
// assumes all N leechers are present from the start; joins spread over
// s seconds can lengthen the best possible makespan by up to s, so
// beyond 10% the ratio would mostly measure the arrival process.
const FlashCrowdSpread = 0.10

// Bound is the fluid lower bound on the time to distribute F bytes from
// the initial seeds to N leechers that are all present from the start
// (Kumar & Ross, "Peer-assisted file distribution: the minimum
// distribution time", 2006):
//
//	T_min = max(F/u_s, F/d_min, N·F/(u_s + Σu_i))
//
// The server must send every byte at least once, the slowest downloader
// must receive all of them, and all N copies must cross some uplink.
//
// Capacities of 0 mean unlimited (lab.Peer's convention) and count as
// infinite, which makes their term 0: the bound stays a valid lower bound,
// only a looser one. Several initial seeds are pooled into one server
// whose capacity is the sum of theirs. Only a flash crowd has this bound:
// when a leecher is a restarted incarnation (churn) or the joins spread
// over more than FlashCrowdSpread·T_min (e.g. Poisson arrivals), TMin and
// Ratio are nil and Reason says why.
type Bound struct {
	// Applicable reports a flash crowd for which TMin is given.
	Applicable bool `json:"applicable"`
	// Reason explains a nil TMin, Makespan or Ratio.
	Reason string `json:"reason,omitempty"`

	F int64 `json:"f_bytes"`
	N int   `json:"n"`
	// SeedUp is u_s, MinDown d_min and SumUp Σu_i in bytes/s; 0 means
	// unlimited (for SumUp: at least one leecher's upload is).
	SeedUp  int64 `json:"u_s"`
	MinDown int64 `json:"d_min"`
	SumUp   int64 `json:"sum_u_i"`

	// The three terms in seconds; 0 when a capacity in them is unlimited.
	ServerTerm   float64 `json:"server_term_s"`
	DownloadTerm float64 `json:"download_term_s"`
	SwarmTerm    float64 `json:"swarm_term_s"`

	// Start is the first leecher's join and JoinSpread the time from it
	// to the last leecher's join.
	Start      float64 `json:"start_s"`
	JoinSpread float64 `json:"join_spread_s"`

	TMin *float64 `json:"t_min_s"`
	// Makespan is the last leecher completion minus Start, given when
	// every leecher completed; Ratio is Makespan/TMin (≥ 1 up to
	// measurement error: how far the run was from the fluid optimum).
	Makespan *float64 `json:"makespan_s"`
	Ratio    *float64 `json:"ratio"`
}

func fluidBound(c lab.Content, ps []PeerStats) Bound {
	b := Bound{F: c.Size}
	var seeds, leechers []PeerStats
	for _, p := range ps {
		if p.InitialSeed {
			seeds = append(seeds, p)
		} else {
			leechers = append(leechers, p)
		}
	}
	b.N = len(leechers)
	switch {
	case b.N == 0:
		b.Reason = "no leechers"
		return b
	case len(seeds) == 0:
		b.Reason = "no initial seed"
		return b
	case b.F <= 0:
		b.Reason = "content size unknown"
		return b
	}

	inf := math.Inf(1)
	us := 0.0
	for _, s := range seeds {
		if s.Up <= 0 {
			us = inf
			break
		}
		us += float64(s.Up)
	}
	dmin, sumU := inf, 0.0
	first, lastJoin := inf, -inf
	restarted, incomplete := false, 0
	var lastDone float64
	for _, l := range leechers {
		if l.Down > 0 {
			dmin = math.Min(dmin, float64(l.Down))
		}
		if l.Up <= 0 {
			sumU = inf
		} else {
			sumU += float64(l.Up)
		}
		first = math.Min(first, l.Joined)
		lastJoin = math.Max(lastJoin, l.Joined)
		restarted = restarted || l.Incarnation > 0
		if l.Completed == nil {
			incomplete++
		} else {
			lastDone = math.Max(lastDone, *l.Completed)
		}
	}
	b.SeedUp = finite(us)
	b.MinDown = finite(dmin)
	b.SumUp = finite(sumU)
	F := float64(b.F)
	b.ServerTerm = F / us
	b.DownloadTerm = F / dmin
	b.SwarmTerm = float64(b.N) * F / (us + sumU)
	b.Start = first
	b.JoinSpread = lastJoin - first

	tmin := max(b.ServerTerm, b.DownloadTerm, b.SwarmTerm)
	switch {
	case tmin == 0:
		b.Reason = "every capacity is unlimited: no bound"
		return b
	case restarted:
		b.Reason = "leechers restarted (churn): not a flash crowd"
		return b
	case b.JoinSpread > FlashCrowdSpread*tmin:
		b.Reason = fmt.Sprintf("joins spread over %.3g s, more than %.0f%% of T_min = %.3g s: not a flash crowd",
			b.JoinSpread, 100*FlashCrowdSpread, tmin)
		return b
	}
	b.Applicable = true
	b.TMin = ptr(tmin)
	if incomplete > 0 {
		b.Reason = fmt.Sprintf("%d of %d leechers did not complete: no makespan", incomplete, b.N)
		return b
	}
	b.Makespan = ptr(lastDone - first)
	b.Ratio = ptr(*b.Makespan / tmin)
	return b
}

// finite returns x as bytes/s, with +Inf (unlimited) as 0.
func finite(x float64) int64 {
	if math.IsInf(x, 1) {
		return 0
	}
	return int64(x)
}
