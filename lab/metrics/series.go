package metrics

import (
	"slices"

	"github.com/swarmlab/swarmlab/lab"
)

// Point is a value V at T seconds since the start of the run.
type Point struct {
	T float64 `json:"t_s"`
	V float64 `json:"v"`
}

// Series is a step function of time named after a group (or AllGroups):
// each point's value holds from its T until the next point's T. Series
// start at T=0 and, when the run lasted longer than their last change, end
// with a point at the run's end, so they can be plotted as they are.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// PeerSeries is one leecher's progress: the fraction of the content's
// pieces it held, from 0 at its join, a point per verified piece, to 1 at
// completion. A leecher that never completed is extended flat to its
// departure (or the run's end) so a stall is visible.
type PeerSeries struct {
	Peer   int     `json:"peer"`
	Group  string  `json:"group"`
	Points []Point `json:"points"`
}

// step appends (t, v) to pts, replacing the last point when it has the
// same time: several changes at one instant are one step.
func step(pts []Point, t, v float64) []Point {
	if n := len(pts); n > 0 && pts[n-1].T == t {
		pts[n-1].V = v
		return pts
	}
	return append(pts, Point{T: t, V: v})
}

// extend closes a step series at end when it has not reached it.
func extend(pts []Point, end float64) []Point {
	if n := len(pts); n > 0 && pts[n-1].T < end {
		return append(pts, Point{T: end, V: pts[n-1].V})
	}
	return pts
}

// completedSeries counts the leechers among idx that have completed, over
// time (seed 000's first measure).
func completedSeries(name string, idx []int, ps []PeerStats, end float64) Series {
	var at []float64
	for _, i := range idx {
		if c := ps[i].Completed; c != nil {
			at = append(at, *c)
		}
	}
	slices.Sort(at)
	pts := []Point{{T: 0, V: 0}}
	for k, t := range at {
		pts = step(pts, t, float64(k+1))
	}
	return Series{Name: name, Points: extend(pts, end)}
}

// bytesSeries sums the Downloaded counters of the peers among idx over
// time (seed 000's second measure), from samples in time order. Between
// two samples of a peer its last value stands, and a peer that left keeps
// counting what it got: bytes transferred stay transferred.
func bytesSeries(name string, idx []int, samples []lab.Sample, index map[int]int, peers int, end float64) Series {
	in := make([]bool, peers)
	for _, i := range idx {
		in[i] = true
	}
	last := make([]int64, peers)
	var total int64
	pts := []Point{{T: 0, V: 0}}
	for _, smp := range samples {
		i, ok := index[smp.Peer]
		if !ok || !in[i] {
			continue
		}
		total += smp.Downloaded - last[i]
		last[i] = smp.Downloaded
		pts = step(pts, sec(smp.At), float64(total))
	}
	return Series{Name: name, Points: extend(pts, end)}
}

// progressSeries builds every leecher's progress curve from its Joined,
// Piece and Completed events.
func progressSeries(run lab.Run, index map[int]int, events []lab.Event, ps []PeerStats) []PeerSeries {
	if run.Content.Pieces <= 0 {
		return nil
	}
	n := float64(run.Content.Pieces)
	curves := make([][]Point, len(run.Peers))
	for _, e := range events {
		i, ok := index[e.Peer]
		if !ok || ps[i].InitialSeed {
			continue
		}
		t := sec(e.At)
		switch e.Kind {
		case lab.Joined:
			if len(curves[i]) == 0 {
				curves[i] = step(curves[i], t, 0)
			}
		case lab.Piece:
			curves[i] = step(curves[i], t, float64(e.Have)/n)
		case lab.Completed:
			curves[i] = step(curves[i], t, 1)
		}
	}
	var out []PeerSeries
	for i, p := range ps {
		if p.InitialSeed {
			continue
		}
		pts := curves[i]
		if len(pts) == 0 {
			pts = []Point{{T: p.Joined, V: 0}}
		}
		if p.Completed == nil {
			stop := sec(run.End)
			if p.Left != nil {
				stop = *p.Left
			}
			pts = extend(pts, stop)
		}
		out = append(out, PeerSeries{Peer: p.ID, Group: p.Group, Points: pts})
	}
	return out
}
