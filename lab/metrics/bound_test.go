package metrics

import (
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/lab"
)

// leecher is one leecher of a crowd: capacities, join and completion
// times (done 0: never) and incarnation.
type leecher struct {
	up, down   int64
	join, done float64
	incarn     int
}

// crowd builds a run of one-piece content of size bytes, an initial seed
// per entry of seeds (its upload), and the leechers ls.
func crowd(size int64, seeds []int64, ls []leecher) lab.Run {
	r := lab.Run{Content: lab.Content{Size: size, PieceLength: size, Pieces: 1}, End: at(1000)}
	id := 0
	for _, u := range seeds {
		r.Peers = append(r.Peers, lab.Peer{ID: id, Group: "seed", InitialSeed: true, Up: u})
		r.Events = append(r.Events, ev(0, id, lab.Joined, 0))
		id++
	}
	for _, l := range ls {
		r.Peers = append(r.Peers, lab.Peer{ID: id, Group: "leech", Up: l.up, Down: l.down, Incarnation: l.incarn})
		r.Events = append(r.Events, ev(l.join, id, lab.Joined, 0))
		if l.done > 0 {
			r.Events = append(r.Events, ev(l.done, id, lab.Piece, 1), ev(l.done, id, lab.Completed, 0))
		}
		id++
	}
	return r
}

func four(join [4]float64, done [4]float64) []leecher {
	ls := make([]leecher, 4)
	for i := range ls {
		ls[i] = leecher{up: 5, down: 50, join: join[i], done: done[i]}
	}
	return ls
}

func TestFluidBound(t *testing.T) {
	done := [4]float64{20, 25, 30, 40}
	tests := []struct {
		name                 string
		run                  lab.Run
		server, down, swarm  float64
		tmin, makespan, rate float64 // nan: nil
		reason               string  // substring; "" for none
	}{
		{
			// The brief's case: max(100/10, 100/50, 4·100/(10+20)) = 13.33;
			// the last leecher completes at 40, 3× the bound.
			name: "kumar-ross", run: crowd(100, []int64{10}, four([4]float64{}, done)),
			server: 10, down: 2, swarm: 400.0 / 30, tmin: 400.0 / 30, makespan: 40, rate: 3,
		},
		{
			// Two seeds of 10 pool into u_s = 20: max(5, 2, 400/40 = 10).
			name: "two seeds", run: crowd(100, []int64{10, 10}, four([4]float64{}, done)),
			server: 5, down: 2, swarm: 10, tmin: 10, makespan: 40, rate: 4,
		},
		{
			// An unlimited seed makes F/u_s and the swarm term vanish.
			name: "unlimited seed", run: crowd(100, []int64{0}, four([4]float64{}, done)),
			server: 0, down: 2, swarm: 0, tmin: 2, makespan: 40, rate: 20,
		},
		{
			name: "unlimited leecher upload",
			run: crowd(100, []int64{10}, []leecher{
				{up: 0, down: 50, done: 10}, {up: 5, down: 25, done: 12},
			}),
			server: 10, down: 4, swarm: 0, tmin: 10, makespan: 12, rate: 1.2,
		},
		{
			// Joins within 10% of T_min (1 s ≤ 1.33 s) still make a crowd,
			// and the makespan runs from the first join.
			name: "small spread", run: crowd(100, []int64{10}, four([4]float64{0, 0, 1, 1}, done)),
			server: 10, down: 2, swarm: 400.0 / 30, tmin: 400.0 / 30, makespan: 40, rate: 3,
		},
		{
			name: "arrivals spread", run: crowd(100, []int64{10}, four([4]float64{0, 2, 4, 6}, done)),
			server: 10, down: 2, swarm: 400.0 / 30, tmin: nan, makespan: nan, rate: nan,
			reason: "not a flash crowd",
		},
		{
			name: "all unlimited", run: crowd(100, []int64{0}, []leecher{{done: 1}}),
			tmin: nan, makespan: nan, rate: nan, reason: "unlimited",
		},
		{
			name: "churn", run: crowd(100, []int64{10}, []leecher{{up: 5, down: 50, done: 30, incarn: 1}}),
			server: 10, down: 2, swarm: 100.0 / 15, tmin: nan, makespan: nan, rate: nan, reason: "churn",
		},
		{
			name: "incomplete", run: crowd(100, []int64{10}, four([4]float64{}, [4]float64{20, 25, 30, 0})),
			server: 10, down: 2, swarm: 400.0 / 30, tmin: 400.0 / 30, makespan: nan, rate: nan,
			reason: "1 of 4",
		},
		{
			name: "no seed", run: crowd(100, nil, four([4]float64{}, done)),
			tmin: nan, makespan: nan, rate: nan, reason: "no initial seed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Compute(tt.run).Bound
			if !near(b.ServerTerm, tt.server) || !near(b.DownloadTerm, tt.down) || !near(b.SwarmTerm, tt.swarm) {
				t.Errorf("terms = %v, %v, %v; want %v, %v, %v",
					b.ServerTerm, b.DownloadTerm, b.SwarmTerm, tt.server, tt.down, tt.swarm)
			}
			checkPtr(t, "t_min", b.TMin, tt.tmin)
			checkPtr(t, "makespan", b.Makespan, tt.makespan)
			checkPtr(t, "ratio", b.Ratio, tt.rate)
			if b.Applicable != (b.TMin != nil) {
				t.Errorf("applicable %v with t_min %v", b.Applicable, b.TMin)
			}
			if tt.reason == "" && b.Reason != "" || !strings.Contains(b.Reason, tt.reason) {
				t.Errorf("reason %q, want one containing %q", b.Reason, tt.reason)
			}
		})
	}
}
