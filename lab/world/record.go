package world

import (
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab"
)

// recorder collects a run's peers, events and samples from every peer's
// goroutines. Each record takes its timestamp under the lock, so the
// events come out in time order without sorting, and times are read
// from the monotonic clock, relative to the world's start.
type recorder struct {
	start time.Time

	mu      sync.Mutex
	end     time.Duration // set when the world ends; later records clamp to it
	ended   bool
	peers   []lab.Peer
	events  []lab.Event
	samples []lab.Sample
	done    int // leecher entries that completed
}

func newRecorder(start time.Time) *recorder { return &recorder{start: start} }

// now is the world's time; after the end it stays at the end, so that
// the teardown's departures are recorded as happening when the world
// stopped, not while its sockets closed.
func (r *recorder) now() time.Duration {
	if r.ended {
		return r.end
	}
	return time.Since(r.start)
}

// finish fixes the world's end time and returns it.
func (r *recorder) finish() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended {
		r.end = time.Since(r.start)
		r.ended = true
	}
	return r.end
}

// add enters a peer in the run's list and returns its id, its index
// there. The scheduler adds first arrivals in schedule order, before
// their goroutines start, so that peers arriving together (a flash
// crowd) get the same ids in every run of a world rather than the order
// in which their sockets happened to open.
func (r *recorder) add(p lab.Peer) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.ID = len(r.peers)
	r.peers = append(r.peers, p)
	return p.ID
}

// joined records a peer's Joined event and a zero sample.
func (r *recorder) joined(id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now()
	r.events = append(r.events, lab.Event{At: at, Peer: id, Kind: lab.Joined})
	r.samples = append(r.samples, lab.Sample{At: at, Peer: id})
}

// piece records a verified piece and, with the last one, completion.
func (r *recorder) piece(id, have int, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now()
	r.events = append(r.events, lab.Event{At: at, Peer: id, Kind: lab.Piece, Have: have})
	if complete {
		r.events = append(r.events, lab.Event{At: at, Peer: id, Kind: lab.Completed})
		r.done++
	}
}

// left records a departure with the peer's final counters.
func (r *recorder) left(id int, s engine.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now()
	r.samples = append(r.samples, sampleOf(at, id, s))
	r.events = append(r.events, lab.Event{At: at, Peer: id, Kind: lab.Left})
}

// sample records counters of several peers taken at one moment.
func (r *recorder) sample(ids []int, stats []engine.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now()
	for i, id := range ids {
		r.samples = append(r.samples, sampleOf(at, id, stats[i]))
	}
}

func sampleOf(at time.Duration, id int, s engine.Stats) lab.Sample {
	return lab.Sample{At: at, Peer: id, Downloaded: s.Downloaded, Uploaded: s.Uploaded, Wasted: s.Wasted, Useless: s.Useless}
}

// completed is the number of leecher entries that have completed.
func (r *recorder) completed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// fill copies what was recorded into run.
func (r *recorder) fill(run *lab.Run) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run.Peers = r.peers
	run.Events = r.events
	run.Samples = r.samples
	run.End = r.end
}
