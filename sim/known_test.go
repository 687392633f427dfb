package sim

// Known results of the literature, reproduced by the simulator (issue 6).
// Each is a test on a small world that takes a few seconds; the same
// checks on full-size worlds run behind -full and print the tables of
// docs/simulator.md:
//
//	go test ./sim -run KnownFull -full -v -timeout 90m
//
// Every check is on virtual time, so for a given seed the results are
// exact whatever the machine's load. Thresholds were chosen from
// measurements over more seeds than the tests run (see the comment at
// each), with margin, so that a change that only reshuffles the random
// draws does not trip them while a change of behaviour does.

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab/metrics"
)

var fullWorlds = flag.Bool("full", false, "run the full-size known-result worlds of docs/simulator.md (minutes)")

// ---------------------------------------------------------------------
// 1. The fluid lower bound, and super-seeding.

// fluidWorld is a flash crowd bottlenecked by its one seed. The seed
// uploads 64 KiB/s and each leecher has 512 KiB/s up and 2 MiB/s down,
// for 100 pieces of 32 KiB (F = 3.2 MiB). The three terms of Kumar and
// Ross's bound are then F/u_s = 50 s, N·F/(u_s+Σu_i) ≤ 6.25 s and
// F/d_min = 1.6 s: the seed's term is eight times the next, so the
// makespan says how well the seed's upload is used. Everyone arrives at
// t = 0 and stays, as the bound assumes.
func fluidWorld(leechers int, pickerName string, superSeed bool, seed uint64) Config {
	const kib = 1 << 10
	peers := []PeerSpec{{Group: "seed", Seed: true, Up: 64 * kib, Picker: "rarest", Choker: "tft", SuperSeed: superSeed}}
	for range leechers {
		peers = append(peers, PeerSpec{Group: "leechers", Up: 512 * kib, Down: 2048 * kib, Picker: pickerName, Choker: "tft"})
	}
	return Config{
		Name: "known-fluid", Seed: seed,
		Layout: engine.Layout{PieceLength: 32 * kib, TotalLength: 100 * 32 * kib},
		Peers:  peers,
		// Fine samples: the seed's upload is read at the first completion.
		SampleEvery: 250 * time.Millisecond,
		MaxTime:     time.Hour,
	}
}

// fluidResult is what the fluid checks read from one run.
type fluidResult struct {
	ratio float64 // last completion / T_min
	// seedShare is what the seed had uploaded, in copies of the content,
	// when the first leecher completed: BEP 16's measure of a seed's
	// efficiency (what it uploads "before other clients became seeds").
	seedShare float64
}

func runFluid(t *testing.T, cfg Config) fluidResult {
	t.Helper()
	return measureFluid(t, cfg, func(b metrics.Bound) {
		// The world is built so that the seed's term is the bound, by
		// far; if another term came close, the checks would measure
		// something else.
		if *b.TMin != b.ServerTerm || b.ServerTerm < 4*max(b.SwarmTerm, b.DownloadTerm) {
			t.Fatalf("%s: not seed-bottlenecked: terms server %.3g s, swarm %.3g s, download %.3g s",
				cfg.Name, b.ServerTerm, b.SwarmTerm, b.DownloadTerm)
		}
	})
}

// measureFluid runs cfg and reads its fluidResult, after checkBound has
// looked at the bound's terms.
func measureFluid(t *testing.T, cfg Config, checkBound func(metrics.Bound)) fluidResult {
	t.Helper()
	run, _, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := metrics.Compute(*run).Bound
	if !b.Applicable || b.Ratio == nil {
		t.Fatalf("%s seed %d: no fluid bound: %s", cfg.Name, cfg.Seed, b.Reason)
	}
	checkBound(b)
	first := slices.Min(slices.Collect(maps.Values(completions(run))))
	// The seed is peer 0. Its first sample at or after the first
	// completion overstates its upload then by at most one sampling
	// period: 16 KiB, half a percent of the content.
	share := math.NaN()
	for _, s := range run.Samples {
		if s.Peer == 0 && s.At >= first {
			share = float64(s.Uploaded) / float64(cfg.Layout.TotalLength)
			break
		}
	}
	return fluidResult{ratio: *b.Ratio, seedShare: share}
}

// minFluidRatio is the least makespan/T_min a run may show. The fluid
// model has no bursts, but the simulator's capped links are token buckets
// that start full (sim/link.go: a tenth of a second of the rate, at least
// 64 KiB), so the seed may send its first 64 KiB at once: 2% of F, by
// which the makespan could undercut F/u_s. Lower would mean data moved
// faster than the links allow.
const minFluidRatio = 0.97

// fluidCase is one of the worlds the fluid checks compare.
type fluidCase struct {
	name, picker string
	super        bool
}

var fluidCases = []fluidCase{
	{"rarest-first, super-seed", "rarest", true},
	{"random, super-seed", "random", true},
	{"rarest-first, plain seed", "rarest", false},
	{"random, plain seed", "random", false},
}

// checkFluid runs every fluid case with the given number of leechers over
// seeds 1..seeds and checks them; superMax is the most a super-seeded
// makespan may be, in T_min. It returns the markdown table of the results.
func checkFluid(t *testing.T, leechers, seeds int, superMax float64) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\n| world, %d leechers, seeds 1–%d | makespan / T_min | seed's upload at the first completion (× F) |\n|---|---|---|\n", leechers, seeds)
	for _, c := range fluidCases {
		var ratios, shares []float64
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			r := runFluid(t, fluidWorld(leechers, c.picker, c.super, seed))
			ratios, shares = append(ratios, r.ratio), append(shares, r.seedShare)
			switch {
			case r.ratio < minFluidRatio:
				t.Errorf("%s, seed %d: makespan %.3f × T_min, below the lower bound", c.name, seed, r.ratio)
			case c.super && (r.ratio > superMax || r.seedShare > 1.10):
				t.Errorf("%s, seed %d: makespan %.3f × T_min, the seed uploading %.3f copies before the first completion; want ≤ %.2f and ≤ 1.10",
					c.name, seed, r.ratio, r.seedShare, superMax)
			case !c.super && c.picker == "rarest" && (r.ratio < 1.20 || r.seedShare < 1.20):
				t.Errorf("%s, seed %d: makespan %.3f × T_min, the seed uploading %.3f copies before the first completion; want both ≥ 1.20 (duplicate uploads)",
					c.name, seed, r.ratio, r.seedShare)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.name, knownSpan(ratios), knownSpan(shares))
	}
	return b.String()
}

// TestKnownFluidBound: Kumar and Ross's fluid bound T_min ("Peer-assisted
// file distribution: the minimum distribution time", 2006) is approached
// in a seed-bottlenecked flash crowd when the seed sends each piece about
// once, which BEP 16's super-seeding achieves; a plain seed sends
// duplicates, and the makespan stretches by about what it wastes. BEP 16
// reports a plain seed uploading 150–200% of the content before another
// seed appears, and a super-seed 105%.
//
// Measured with 40 leechers, seeds 1–8 (docs/simulator.md has the table):
// super-seeded, makespan 1.01–1.04 × T_min and seed share 1.00–1.03 for
// both pickers; plain seed, 1.30–1.56 × T_min and 1.28–1.52 (1.37–1.64
// and 1.32–1.57 before sim/link.go's links became token buckets).
// Thresholds: super-seeded ≤ 1.10 on both measures (BEP 16's own figure
// is 1.05); a plain seed with rarest-first ≥ 1.20 on both (BEP 16:
// 1.5–2.0); none below minFluidRatio.
//
// Random piece selection is only checked against the bound here: in this
// world, whose leechers are eight times faster than the seed, the two
// pickers are level (docs/simulator.md says why).
// TestKnownRandomWorseWithSlowSeed shows random worse once the leechers
// cannot outrun the seed.
func TestKnownFluidBound(t *testing.T) {
	t.Log(checkFluid(t, 40, 3, 1.10))
}

// slowSeedWorld is fluidWorld with a plain seed and the leechers' uplinks
// cut to the seed's own 64 KiB/s. The seed's term is still the bound
// (F/u_s = 50 s; the swarm's, N·F/(u_s + N·u_s), is just under it), but
// the leechers no longer outrun the seed: a piece it sends takes about as
// long to spread through the swarm as the seed takes to send the next.
func slowSeedWorld(leechers int, pickerName string, seed uint64) Config {
	cfg := fluidWorld(leechers, pickerName, false, seed)
	cfg.Name = "known-slow-seed"
	for i := range cfg.Peers {
		if !cfg.Peers[i].Seed {
			cfg.Peers[i].Up = cfg.Peers[0].Up
		}
	}
	return cfg
}

// checkRandomWorse runs slowSeedWorld with rarest-first and with random
// over seeds 1..seeds and checks that random is worse: a longer makespan
// on every seed, and by minGap or more on average. It returns the
// markdown table of the results.
func checkRandomWorse(t *testing.T, leechers, seeds int, minGap float64) string {
	t.Helper()
	seedBound := func(cfg Config) func(metrics.Bound) {
		return func(b metrics.Bound) {
			if *b.TMin != b.ServerTerm {
				t.Fatalf("%s: the seed's term %.3g s is not the bound %.3g s", cfg.Name, b.ServerTerm, *b.TMin)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| slow seed, leechers uploading at its rate, %d leechers, seeds 1–%d | makespan / T_min (mean) | seed's upload at the first completion (× F) |\n|---|---|---|\n", leechers, seeds)
	var means [2]float64
	rarest := make([]float64, seeds)
	for k, pk := range []string{"rarest", "random"} {
		var ratios, shares []float64
		for seed := 1; seed <= seeds; seed++ {
			cfg := slowSeedWorld(leechers, pk, uint64(seed))
			r := measureFluid(t, cfg, seedBound(cfg))
			ratios, shares = append(ratios, r.ratio), append(shares, r.seedShare)
			means[k] += r.ratio / float64(seeds)
			if k == 0 {
				rarest[seed-1] = r.ratio
			} else if r.ratio <= rarest[seed-1] {
				t.Errorf("seed %d: random's makespan %.3f × T_min, rarest-first's %.3f; want random worse", seed, r.ratio, rarest[seed-1])
			}
		}
		fmt.Fprintf(&b, "| %s | %s (%.2f) | %s |\n", pk, knownSpan(ratios), means[k], knownSpan(shares))
	}
	if means[1] < means[0]*(1+minGap) {
		t.Errorf("random's mean makespan %.3f × T_min, rarest-first's %.3f: want random at least %.0f%% worse", means[1], means[0], 100*minGap)
	}
	return b.String()
}

// TestKnownRandomWorseWithSlowSeed: with a slow seed, random piece
// selection is visibly worse than rarest-first (Bharambe, Herley and
// Padmanabhan, INFOCOM 2006), because random peers ask the seed for
// pieces other peers already have, where rarest-first ones ask for the
// pieces only the seed holds. It shows only while the leechers cannot
// outrun the seed: with leechers eight times faster (fluidWorld) every
// piece the seed sends reaches everyone at once, a leecher lacks only
// what the seed has not sent yet, and both pickers choose from those
// (docs/simulator.md). Measured, 40 leechers, seeds 1–8: rarest-first
// 1.72–1.91 × T_min (mean 1.77), random 1.82–2.04 (mean 1.92), random
// worse on every seed; with 48 KiB/s leechers 1.63 against 1.77, and
// with 96 KiB/s level (1.58 against 1.60).
func TestKnownRandomWorseWithSlowSeed(t *testing.T) {
	t.Log(checkRandomWorse(t, 40, 4, 0.04))
}

// ---------------------------------------------------------------------
// 2. Gossip: rounds to spread one piece, and many.

// The gossip worlds run on a synchronous round clock, the textbook
// model's, made of the simulator's own parameters: every peer's engine
// ticks every gossipTick from a random phase in [0, gossipTick), and the
// one-way latency is gossipTick too, with unlimited links. Each peer
// acts in round r at r·gossipRound + its phase, so within the round's
// first gossipTick; what it sends lands at least gossipTick later, after
// everyone has acted in round r, and a pull (request and answer, two
// latencies) is answered before 3·gossipTick, well before round r+1.
// Handshakes take one latency too, so in round 0 nobody has partners and
// round 1 is the first. A peer informed in round r thus completes
// gossipTick to 3·gossipTick into it, and its round is
// floor(completion / gossipRound); checkSynchronous verifies this for
// every completion.
const (
	gossipTick  = 250 * time.Millisecond
	gossipRound = 4 * gossipTick
)

// gossipWorld is one source holding every piece and n−1 empty peers, all
// present from t = 0 and connected to each other (the models' uniform
// choice of partner needs the complete graph), each calling one partner
// per round (fanout 1, as in the models). up is every peer's upload
// capacity, 0 for unlimited.
func gossipWorld(n, pieces int, pieceLen int64, mode engine.GossipMode, up float64, seed uint64) Config {
	g := &engine.GossipConfig{Mode: mode, Fanout: 1, Interval: gossipRound}
	peers := []PeerSpec{{Group: "source", Seed: true, Up: up, Gossip: g}}
	for range n - 1 {
		peers = append(peers, PeerSpec{Group: "peers", Up: up, Gossip: g})
	}
	return Config{
		Name: "known-gossip-" + mode.String(), Seed: seed,
		Layout:   engine.Layout{PieceLength: pieceLen, TotalLength: int64(pieces) * pieceLen},
		Peers:    peers,
		Tick:     gossipTick,
		Latency:  gossipTick,
		NumWant:  n,
		MaxConns: n,
		// Byte counters are not read: one sample a minute keeps the
		// record small.
		SampleEvery: time.Minute,
		MaxTime:     time.Hour,
	}
}

// gossipCompletions runs cfg and returns every peer's completion time,
// failing unless all of them completed.
func gossipCompletions(t *testing.T, cfg Config) []time.Duration {
	t.Helper()
	run, _, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := slices.Collect(maps.Values(completions(run)))
	if len(done) != len(cfg.Peers)-1 {
		t.Fatalf("%s seed %d: %d of %d peers completed by %v", cfg.Name, cfg.Seed, len(done), len(cfg.Peers)-1, run.End)
	}
	return done
}

// checkSynchronous fails unless every completion falls where the round
// clock puts it, gossipTick to 3·gossipTick into a round; otherwise
// floor(t / gossipRound) would not be its round, and comparing with a
// round-based model would be meaningless.
func checkSynchronous(t *testing.T, name string, done []time.Duration) {
	t.Helper()
	for _, at := range done {
		if off := at % gossipRound; off < gossipTick || off >= 3*gossipTick {
			t.Fatalf("%s: a completion at %v is %v into its round; want [%v, %v)", name, at, off, gossipTick, 3*gossipTick)
		}
	}
}

// lastRound is the round in which the last peer completed.
func lastRound(done []time.Duration) int { return int(slices.Max(done) / gossipRound) }

// rumorModel is a rumor-spreading model on the complete graph of n nodes
// with synchronous rounds; one node knows the rumor at first.
type rumorModel int

const (
	// Push: every informed node calls a uniformly random other node and
	// informs it. Frieze and Grimmett 1985, Pittel 1987: log2 n + ln n +
	// O(1) rounds.
	modelPush rumorModel = iota
	// Pull: every uninformed node calls a uniformly random other node and
	// is informed if that one was. Demers et al. 1987: once most nodes
	// know, the uninformed fraction squares every round.
	modelPull
	// Push-pull: every node calls a uniformly random other node, and the
	// rumor crosses the call either way. Karp, Schindelhauer, Shenker and
	// Vöcking 2000: log3 n + O(ln ln n) rounds.
	modelPushPull
	// Push to the uninformed: every informed node calls a uniformly random
	// uninformed node. No paper's model: it is what the engine's push does
	// with one piece (see engineModel).
	modelPushUninformed
	// Push-pull with pushes to the uninformed: every informed node calls a
	// uniformly random uninformed node and informs it; every uninformed
	// node calls a uniformly random other node and is informed if that one
	// was, or was pushed to earlier in the round, which with uniform
	// phases is an even chance. What the engine's push-pull does with one
	// piece (see engineModel).
	modelPushPullUninformed
)

func (m rumorModel) String() string {
	return [...]string{"push", "pull", "push-pull", "push to the uninformed", "push-pull, pushing to the uninformed"}[m]
}

// spreadRounds plays model m once on n nodes and returns the rounds until
// every node is informed.
func spreadRounds(m rumorModel, n int, r *rand.Rand) int {
	informed := make([]bool, n)
	next := make([]bool, n)
	informed[0] = true
	var uninformed, pulled []int
	for rounds := 1; ; rounds++ {
		copy(next, informed)
		uninformed = uninformed[:0]
		for i, ok := range informed {
			if !ok {
				uninformed = append(uninformed, i)
			}
		}
		if m == modelPushPullUninformed {
			// Pushes first, so that next tells who was pushed to; then
			// the pulls, whose successes are applied after them, since a
			// pull's answer lands too late to serve another pull.
			for i := range n {
				if informed[i] {
					next[uninformed[r.IntN(len(uninformed))]] = true
				}
			}
			pulled = pulled[:0]
			for _, i := range uninformed {
				j := r.IntN(n - 1)
				if j >= i {
					j++
				}
				if informed[j] || next[j] && r.IntN(2) == 0 {
					pulled = append(pulled, i)
				}
			}
			for _, i := range pulled {
				next[i] = true
			}
			informed, next = next, informed
			if !slices.Contains(informed, false) {
				return rounds
			}
			continue
		}
		for i := range n {
			if m == modelPushUninformed {
				if informed[i] {
					next[uninformed[r.IntN(len(uninformed))]] = true
				}
				continue
			}
			j := r.IntN(n - 1) // a uniformly random other node
			if j >= i {
				j++
			}
			switch {
			case informed[i] && (m == modelPush || m == modelPushPull):
				next[j] = true
			case !informed[i] && informed[j] && (m == modelPull || m == modelPushPull):
				next[i] = true
			}
		}
		informed, next = next, informed
		if !slices.Contains(informed, false) {
			return rounds
		}
	}
}

// modelStats is the mean and standard deviation of model m's rounds on n
// nodes over many plays, from a fixed seed.
func modelStats(m rumorModel, n, plays int) (mean, sd float64) {
	r := rand.New(rand.NewPCG(uint64(n), uint64(m)))
	var sum, sq float64
	for range plays {
		x := float64(spreadRounds(m, n, r))
		sum += x
		sq += x * x
	}
	mean = sum / float64(plays)
	return mean, math.Sqrt(max(0, sq/float64(plays)-mean*mean))
}

// asymptote is the leading terms of a textbook model's round count: the
// papers' for push and push-pull; for pull, log2 n for the doubling phase
// and log2 ln n for Demers et al.'s squaring phase.
func asymptote(m rumorModel, n int) float64 {
	x := float64(n)
	switch m {
	case modelPush:
		return math.Log2(x) + math.Log(x)
	case modelPull:
		return math.Log2(x) + math.Log2(math.Log(x))
	case modelPushPull:
		return math.Log(x) / math.Log(3)
	}
	return math.NaN()
}

// TestRumorModels checks the test's textbook models against the papers'
// asymptotics, so that what the engine is compared with is what the
// papers analyse. Measured for n = 64 to 4096: push lands 0.95–1.3 rounds
// above log2 n + ln n (Pittel's O(1)), push-pull 1.5·ln ln n above log3 n
// (Karp et al.'s O(ln ln n)), pull 0.9–1.1 above log2 n + log2 ln n.
func TestRumorModels(t *testing.T) {
	for _, n := range []int{64, 256} {
		for _, m := range []rumorModel{modelPush, modelPull, modelPushPull} {
			mean, _ := modelStats(m, n, 2000)
			extra := mean - asymptote(m, n)
			hi := 2.0
			if m == modelPushPull {
				hi = 2 * math.Log(math.Log(float64(n)))
			}
			if extra < 0 || extra > hi {
				t.Errorf("%v on %d nodes: %.2f rounds, %.2f above the asymptote %.2f; want 0 to %.2f above",
					m, n, mean, extra, asymptote(m, n), hi)
			}
		}
	}
}

// engineModel returns the rumor model the engine's gossip mode follows
// with one piece, and the textbook model of the same name. They differ
// for push and push-pull (docs/simulator.md): pushes reach only
// uninformed peers, because the engine closes the connection between two
// peers that both have every piece ("both seeds"), in gossip mode too, so
// an informed gossiper's partners are exactly the uninformed peers.
func engineModel(mode engine.GossipMode) (engineM, textbook rumorModel) {
	switch mode {
	case engine.Push:
		return modelPushUninformed, modelPush
	case engine.Pull:
		return modelPull, modelPull
	}
	return modelPushPullUninformed, modelPushPull
}

// gossipRow is one gossip mode measured on n nodes over seeds 1..seeds,
// with the models' means on the same n.
type gossipRow struct {
	mode             engine.GossipMode
	n, seeds         int
	measured, lo, hi float64 // mean, min and max of the last peer's round
	// engineM is the engine's model, its mean, and the band around it
	// the measured mean must fall in.
	engineM          rumorModel
	engineMean, band float64
	// textbook is the mode's textbook model, its mean and asymptote.
	textbook              rumorModel
	textbookMean, formula float64
}

// measureGossip runs mode on n nodes over seeds 1..seeds and plays the
// models plays times each. The band is three standard errors of the mean
// (the model's standard deviation over √seeds), and at least half a
// round: a measured mean outside it does not follow the model.
func measureGossip(t *testing.T, mode engine.GossipMode, n, seeds, plays int) gossipRow {
	t.Helper()
	em, tm := engineModel(mode)
	row := gossipRow{mode: mode, n: n, seeds: seeds, lo: math.Inf(1), hi: math.Inf(-1), engineM: em, textbook: tm}
	for s := 1; s <= seeds; s++ {
		cfg := gossipWorld(n, 1, engine.BlockSize, mode, 0, uint64(s))
		done := gossipCompletions(t, cfg)
		checkSynchronous(t, cfg.Name, done)
		r := float64(lastRound(done))
		row.measured += r / float64(seeds)
		row.lo, row.hi = min(row.lo, r), max(row.hi, r)
	}
	var sd float64
	row.engineMean, sd = modelStats(em, n, plays)
	row.band = max(0.5, 3*sd/math.Sqrt(float64(seeds)))
	row.textbookMean, _ = modelStats(tm, n, plays)
	row.formula = asymptote(tm, n)
	t.Logf("%-8s n=%d: %.2f rounds (%v–%v over %d seeds); engine's model %.2f ± %.2f; textbook %v %.2f (asymptote %.2f)",
		mode, n, row.measured, row.lo, row.hi, seeds, row.engineMean, row.band, tm, row.textbookMean, row.formula)
	if math.Abs(row.measured-row.engineMean) > row.band {
		t.Errorf("%v on %d nodes: mean %.2f rounds; the engine's model (%v) gives %.2f ± %.2f",
			mode, n, row.measured, em, row.engineMean, row.band)
	}
	return row
}

// TestKnownGossipOnePiece: rounds for one piece to reach 64 nodes from one
// source, for each gossip mode, against the model the engine follows
// (engineModel). Pull is the textbook pull. Push finishes about 3.5
// rounds sooner than the textbook push (7.5 against 11.1), push-pull
// about 1 round sooner than the textbook push-pull (4.9 against 6.0). If
// the engine comes to gossip between complete peers, or to refuse a push
// of a piece it is still pulling, this test fails; engineModel and the
// tables in docs/simulator.md should then change with it.
//
// Measured over seeds 1–12: push 7.42, pull 9.33, push-pull 4.92; over
// seeds 1–40: 7.60, 9.15 and 4.93.
func TestKnownGossipOnePiece(t *testing.T) {
	for _, mode := range []engine.GossipMode{engine.Push, engine.Pull, engine.PushPull} {
		t.Run(mode.String(), func(t *testing.T) { measureGossip(t, mode, 64, 12, 4000) })
	}
}

// pieceBound is the fewest rounds in which k pieces can reach N peers
// from one source when every node sends at most one piece per round:
// k + ⌊log2 N⌋. The source sends its last new piece in round k at the
// earliest, and from then on the holders of that piece at most double
// each round, so after k + j rounds at most 2^(j+1) − 1 peers hold it.
// Mundinger, Weber and Weiss ("Optimal scheduling of peer-to-peer file
// dissemination", J. Scheduling 2008) show that this many rounds suffice,
// also when a node's uplink is shared between transfers.
func pieceBound(k, peers int) int { return k + int(math.Floor(math.Log2(float64(peers)))) }

// TestKnownGossipManyPieces: no gossip mode beats pieceBound. The engine's
// push with fanout 1 sends one piece per round, so the bound holds in
// rounds with unlimited links. Pulls can be answered many at a time, so
// for pull and push-pull it holds only in time, with each uplink limited
// to one piece per round, which the second half checks for all modes.
// k = 8 pieces to N = 64 peers: the bound is 14 rounds.
//
// Measured: push 54–77 rounds with unlimited links (seeds 1–3); with one
// piece per round (seeds 1–2), push 57–64 rounds, pull 53–58, push-pull
// 74–86. Blind choices waste most transfers (a push of a piece the peer
// has, a pull of a piece the partner lacks), so gossip runs at four to six
// times the bound, and only a gross error could bring it below. So the
// timed half also runs BitTorrent (rarest-first, TFT), which is informed
// and comes closer: 2.0–2.4 times the bound (seeds 1–3); a simulator that
// let links carry twice their capacity would bring it near or below.
func TestKnownGossipManyPieces(t *testing.T) {
	const peers, k = 64, 8
	bound := pieceBound(k, peers)
	t.Run("rounds/push", func(t *testing.T) {
		for s := uint64(1); s <= 3; s++ {
			cfg := gossipWorld(peers+1, k, engine.BlockSize, engine.Push, 0, s)
			done := gossipCompletions(t, cfg)
			checkSynchronous(t, cfg.Name, done)
			got := lastRound(done)
			t.Logf("seed %d: %d rounds (bound %d)", s, got, bound)
			if got < bound {
				t.Errorf("seed %d: %d pieces reached %d peers in %d rounds, below the bound of %d", s, k, peers, got, bound)
			}
		}
	})
	least := timedBound(peers, k)
	for _, mode := range []engine.GossipMode{0, engine.Push, engine.Pull, engine.PushPull} {
		name := "bittorrent"
		if mode != 0 {
			name = mode.String()
		}
		t.Run("time/"+name, func(t *testing.T) {
			for s := uint64(1); s <= 2; s++ {
				got := slices.Max(gossipCompletions(t, timedWorld(peers, k, mode, s)))
				t.Logf("seed %d: last completion %v = %.1f rounds of upload (bound %.1f allowing for the links' credit)",
					s, got, got.Seconds()/gossipRound.Seconds(), least.Seconds()/gossipRound.Seconds())
				if got < least {
					t.Errorf("seed %d: last completion at %v, below the bound of %v", s, got, least)
				}
			}
		})
	}
}

// timedPiece is the piece length of timedWorld: large, so that the
// links' credit (linkCredit) is a small part of a piece.
const timedPiece = 512 << 10

// linkCredit is the most a capped link may send at once after idling, as
// a fraction of a timedPiece. sim/link.go's token buckets hold a tenth of
// a second of the rate, at least 64 KiB, which is an eighth of a piece
// here; a quarter leaves room for that to change.
const linkCredit = 0.25

// timedWorld spreads k pieces of timedPiece bytes from one source to
// peers peers, every uplink sending one piece per gossipRound (the
// piece's wire size, a 13-byte header per block, per round). mode 0 is
// BitTorrent: rarest-first and TFT, with the simulator's default tick and
// latency.
func timedWorld(peers, k int, mode engine.GossipMode, seed uint64) Config {
	up := float64(timedPiece+timedPiece/engine.BlockSize*13) / gossipRound.Seconds()
	if mode != 0 {
		return gossipWorld(peers+1, k, timedPiece, mode, up, seed)
	}
	specs := []PeerSpec{{Group: "source", Seed: true, Up: up, Picker: "rarest", Choker: "tft"}}
	for range peers {
		specs = append(specs, PeerSpec{Group: "peers", Up: up, Picker: "rarest", Choker: "tft"})
	}
	return Config{
		Name: "known-pieces-bittorrent", Seed: seed,
		Layout: engine.Layout{PieceLength: timedPiece, TotalLength: int64(k) * timedPiece},
		Peers:  specs, NumWant: peers + 1, MaxConns: peers + 1,
		SampleEvery: time.Minute, MaxTime: time.Hour,
	}
}

// timedBound is pieceBound's argument in time for timedWorld, allowing
// for the links' credit b = linkCredit: the source needs (k − b) rounds
// to get its last new piece out, and a holder (1 − b) rounds for each copy
// it passes on, so the last peer waits at least (k − b) + ⌊log2 N⌋·(1 − b)
// rounds.
func timedBound(peers, k int) time.Duration {
	rounds := float64(k) - linkCredit + math.Floor(math.Log2(float64(peers)))*(1-linkCredit)
	return time.Duration(rounds * float64(gossipRound))
}

// ---------------------------------------------------------------------
// 3. Full size.

// TestKnownFull runs the checks above on full-size worlds and prints the
// tables of docs/simulator.md. It takes 6–11 minutes of CPU (its parts
// run in parallel) and up to 4 GB of memory, since the gossip worlds
// connect each of 1024 peers to every other, so it runs only with -full.
func TestKnownFull(t *testing.T) {
	if !*fullWorlds {
		t.Skip("full-size worlds run with -full")
	}
	t.Run("fluid", func(t *testing.T) {
		t.Parallel()
		// The last pieces take longer to reach 1000 peers than 40, so the
		// super-seeded makespan may reach 1.15 × T_min here (measured
		// 1.04–1.08, and 1.08–1.10 before the links became token
		// buckets); the seed's share does not grow.
		t.Log(checkFluid(t, 1000, 2, 1.15))
	})
	t.Run("slow seed", func(t *testing.T) {
		t.Parallel()
		// The makespans draw closer at this size (measured, seeds 1–3:
		// 1.93–1.95 against 2.00–2.01), though random's seed still
		// uploads 1.85–1.90 copies before the first completion to
		// rarest-first's 1.65–1.71.
		t.Log(checkRandomWorse(t, 1000, 3, 0.02))
	})
	t.Run("gossip", func(t *testing.T) {
		t.Parallel()
		const n, seeds = 1024, 3
		var b strings.Builder
		fmt.Fprintf(&b, "\n| mode, n = %d | last round, mean (min–max), seeds 1–%d | engine's model | textbook model | textbook asymptote |\n|---|---|---|---|---|\n", n, seeds)
		for _, mode := range []engine.GossipMode{engine.Push, engine.Pull, engine.PushPull} {
			r := measureGossip(t, mode, n, seeds, 2000)
			fmt.Fprintf(&b, "| %s | %.2f (%v–%v) | %v: %.2f | %v: %.2f | %.2f |\n",
				mode, r.measured, r.lo, r.hi, r.engineM, r.engineMean, r.textbook, r.textbookMean, r.formula)
		}
		t.Log(b.String())
	})
	t.Run("pieces", func(t *testing.T) {
		t.Parallel()
		const peers, k = 512, 8
		bound := pieceBound(k, peers)
		for s := uint64(1); s <= 2; s++ {
			cfg := gossipWorld(peers+1, k, engine.BlockSize, engine.Push, 0, s)
			done := gossipCompletions(t, cfg)
			checkSynchronous(t, cfg.Name, done)
			got := lastRound(done)
			t.Logf("push, %d pieces to %d peers, seed %d: %d rounds (bound %d)", k, peers, s, got, bound)
			if got < bound {
				t.Errorf("seed %d: %d rounds, below the bound of %d", s, got, bound)
			}
		}
	})
}

// knownSpan formats the range of xs.
func knownSpan(xs []float64) string {
	return fmt.Sprintf("%.2f–%.2f", slices.Min(xs), slices.Max(xs))
}
