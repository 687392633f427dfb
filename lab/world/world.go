package world

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker/client"
	"github.com/swarmlab/swarmlab/tracker/server"
)

// Options tune how a world is run; the zero value is fine.
type Options struct {
	// Progress, if set, is told the world's state every SampleEvery and
	// once more when it has ended, always from one goroutine.
	Progress func(Progress)
	// SampleEvery is the period of the per-peer samples (default 250 ms).
	SampleEvery time.Duration
	// Logger receives the peers' logs (default: discarded).
	Logger *slog.Logger
	// MaxMemory refuses worlds whose copies of the content could exceed
	// it, in bytes (default 8 GiB): every peer holds the content in memory.
	MaxMemory int64
}

// Progress is a world's state, for a progress line.
type Progress struct {
	World   string
	Elapsed time.Duration
	// Done counts leechers (every incarnation) that completed; Total the
	// leechers that joined or are still to arrive.
	Done, Total int
	// Present is the number of peers running now.
	Present int
	// Downloaded is the payload all peers have downloaded so far, and
	// Rate its growth over the last sample period, bytes/s.
	Downloaded int64
	Rate       float64
	// Ended is set on the last report.
	Ended bool
}

// Defaults.
const (
	DefaultSampleEvery = 250 * time.Millisecond
	DefaultMaxMemory   = 8 << 30
	// announceTimeout bounds one announce to the in-process tracker,
	// which answers in microseconds unless the world is overloaded.
	announceTimeout = 10 * time.Second
)

// ErrSimNotImplemented is returned for a world whose mode is "sim": the
// emulated world does not run those; package sim does (sim.RunWorld, which
// `swarmlab lab run` calls for them).
var ErrSimNotImplemented = errors.New("mode sim: the emulated world does not run simulated worlds (use sim.RunWorld)")

// world is one running world. Its fields below mu are shared by the
// peers' goroutines, the scheduler and the sampler.
type world struct {
	w        scenario.World
	opt      Options
	log      *slog.Logger
	meta     *metainfo.MetaInfo
	data     []byte
	rec      *recorder
	tc       *client.Client
	announce string // the tracker's announce URL
	maxConns int
	start    time.Time

	end     chan struct{} // closed when the world ends
	endOnce sync.Once
	peers   sync.WaitGroup // every slot's goroutine

	mu          sync.Mutex
	pending     int // arrivals and restarts still to come
	downloading int // peers present and not yet complete
	total       int // leecher entries joined or scheduled
	present     map[int]*peer
	departed    int64 // bytes downloaded by peers that left
	unverified  []int // completed peers whose data differed from the content
	err         error // the first failure of the world itself
}

// Run runs one world of a scenario in real time over loopback and returns
// its record. It returns early, with what was recorded so far and
// ctx's error, if ctx is cancelled. An error from the world itself (a
// peer that cannot listen, say) ends it and is returned.
func Run(ctx context.Context, w scenario.World, opt Options) (*lab.Run, error) {
	wall := time.Now()
	if w.Mode == scenario.Sim {
		return nil, fmt.Errorf("world %s: %w", w.Name(), ErrSimNotImplemented)
	}
	if n := w.Peers(); n > scenario.MaxPeers {
		return nil, fmt.Errorf("world %s: %d peers: at most %d fit in the emulated world (run it with --mode sim)", w.Name(), n, scenario.MaxPeers)
	}
	if opt.SampleEvery <= 0 {
		opt.SampleEvery = DefaultSampleEvery
	}
	if opt.MaxMemory <= 0 {
		opt.MaxMemory = DefaultMaxMemory
	}
	if need := w.Content.Size * int64(w.Peers()+1); need > opt.MaxMemory {
		return nil, fmt.Errorf("world %s: %d peers holding %s each need up to %s of memory, more than the %s allowed",
			w.Name(), w.Peers(), scenario.FormatSize(w.Content.Size), scenario.FormatSize(need), scenario.FormatSize(opt.MaxMemory))
	}
	// Both ends of every connection are in this process. Running out of
	// descriptors midway would show up as peers that cannot connect,
	// which a report would blame on the strategies.
	if lim := fdLimit(); lim > 0 {
		if need := uint64(w.Peers()) * uint64(w.Limits.MaxConns+2); need > lim {
			return nil, fmt.Errorf("world %s: %d peers with up to %d connections each need up to %d file descriptors, more than the %d allowed (lower limits.max_conns or raise ulimit -n)",
				w.Name(), w.Peers(), w.Limits.MaxConns, need, lim)
		}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	meta, data, err := makeContent(w)
	if err != nil {
		return nil, err
	}

	srv, err := server.New(server.Config{
		Interval: w.Tracker.Interval, PeerTTL: w.Tracker.PeerTTL,
		NumWant: w.Tracker.NumWant, MaxNumWant: scenario.MaxNumWant,
		Seed: w.Derive("tracker"), Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("world %s: tracker: %w", w.Name(), err)
	}
	defer srv.Close()
	ls, err := server.Listen(ctx, server.ListenConfig{HTTP: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("world %s: tracker: %w", w.Name(), err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ls) }()
	tc := client.New(client.Config{Timeout: announceTimeout})
	defer tc.Close()

	wd := &world{
		w: w, opt: opt, log: log, meta: meta, data: data, tc: tc,
		announce: "http://" + ls.HTTPAddr().(*net.TCPAddr).String() + "/announce",
		maxConns: w.Limits.MaxConns,
		end:      make(chan struct{}),
		present:  map[int]*peer{},
	}
	schedule := w.Schedule()
	wd.pending = len(schedule)
	for _, j := range schedule {
		if w.Groups[j.Group].Initial == scenario.Leecher {
			wd.total++
		}
	}

	wd.start = time.Now()
	wd.rec = newRecorder(wd.start)
	limit := time.AfterFunc(w.Limits.MaxDuration, func() { wd.stop() })
	defer limit.Stop()
	stopOnCancel := context.AfterFunc(ctx, wd.stop)
	defer stopOnCancel()

	var bg sync.WaitGroup
	bg.Go(func() { wd.sampleLoop() })
	bg.Go(func() { wd.scheduleLoop(schedule) })

	<-wd.end
	end := wd.rec.finish()
	bg.Wait()
	wd.peers.Wait()
	srv.Close()
	<-served

	run := &lab.Run{
		Scenario: w.Name(), Mode: string(scenario.Emulated), Seed: w.Seed,
		Content: lab.Content{Size: w.Content.Size, PieceLength: w.Content.PieceLength, Pieces: w.Content.Pieces()},
	}
	wd.rec.fill(run) // run.End included
	run.Verified = len(wd.unverified) == 0
	run.Wall = time.Since(wall)
	if opt.Progress != nil {
		p := wd.progress(end, 0, 0)
		p.Ended = true
		opt.Progress(p)
	}
	if wd.err != nil {
		return run, wd.err
	}
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	return run, nil
}

// stop ends the world; the first call wins.
func (wd *world) stop() { wd.endOnce.Do(func() { close(wd.end) }) }

func (wd *world) ended() bool {
	select {
	case <-wd.end:
		return true
	default:
		return false
	}
}

// fail records a failure of the world itself and ends it.
func (wd *world) fail(err error) {
	wd.mu.Lock()
	if wd.err == nil {
		wd.err = fmt.Errorf("world %s: %w", wd.w.Name(), err)
	}
	wd.mu.Unlock()
	wd.stop()
}

// checkDone ends the world once nothing more can happen that a measure
// would see: every arrival and restart has happened and nobody is
// downloading. Peers still seeding for a while then would only idle.
// The caller holds mu.
func (wd *world) checkDone() {
	if wd.pending == 0 && wd.downloading == 0 {
		wd.stop()
	}
}

// scheduleLoop starts each slot's goroutine at its arrival time.
func (wd *world) scheduleLoop(schedule []scenario.Join) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, j := range schedule {
		if d := j.At - time.Since(wd.start); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-wd.end:
				return
			}
		}
		if wd.ended() {
			return
		}
		id := wd.rec.add(wd.entry(j.Group, j.Index, 0))
		wd.peers.Go(func() { wd.runSlot(j.Group, j.Index, id) })
	}
}

// sampleLoop samples every present peer's counters each period and
// reports progress.
func (wd *world) sampleLoop() {
	tick := time.NewTicker(wd.opt.SampleEvery)
	defer tick.Stop()
	var ids []int
	var peers []*peer
	// The rate is taken over the last second rather than the last
	// sample period: rate limiters release bytes in bursts, and a
	// quarter-second rate flickers.
	type point struct {
		at    time.Time
		bytes int64
	}
	window := []point{{at: time.Now()}}
	for {
		select {
		case <-wd.end:
			return
		case <-tick.C:
		}
		ids, peers = ids[:0], peers[:0]
		wd.mu.Lock()
		for id, p := range wd.present {
			ids = append(ids, id)
			peers = append(peers, p)
		}
		departed := wd.departed
		wd.mu.Unlock()
		stats := peerStats(peers)
		wd.rec.sample(ids, stats)
		if wd.opt.Progress == nil {
			continue
		}
		total := departed
		for _, s := range stats {
			total += s.Downloaded
		}
		now := time.Now()
		for len(window) > 1 && now.Sub(window[1].at) >= time.Second {
			window = window[1:]
		}
		rate := float64(total-window[0].bytes) / now.Sub(window[0].at).Seconds()
		window = append(window, point{now, total})
		p := wd.progress(time.Since(wd.start), total, rate)
		wd.opt.Progress(p)
	}
}

// progress assembles a Progress; with total 0 it adds up the counters
// itself.
func (wd *world) progress(elapsed time.Duration, total int64, rate float64) Progress {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if total == 0 {
		total = wd.departed
		for _, p := range wd.present {
			total += p.tor.Stats().Downloaded
		}
	}
	return Progress{
		World: wd.w.Name(), Elapsed: elapsed,
		Done: wd.rec.completed(), Total: wd.total, Present: len(wd.present),
		Downloaded: total, Rate: rate,
	}
}
