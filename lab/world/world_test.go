package world

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/storage"
)

// parseWorld parses a one-world scenario.
func parseWorld(t *testing.T, src string) scenario.World {
	t.Helper()
	s, err := scenario.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Worlds) != 1 {
		t.Fatalf("%d worlds", len(s.Worlds))
	}
	return s.Worlds[0]
}

// runWorld runs a world with a deadline well past its max_duration, so a
// world that does not stop by itself fails the test instead of hanging.
func runWorld(t *testing.T, w scenario.World, opt Options) *lab.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), w.Limits.MaxDuration+30*time.Second)
	defer cancel()
	run, err := Run(ctx, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if run.End > w.Limits.MaxDuration+time.Second {
		t.Errorf("ran %v, past max_duration %v", run.End, w.Limits.MaxDuration)
	}
	checkOrdered(t, run)
	return run
}

// checkOrdered checks what every run must satisfy: events in time order
// and within the run, every peer's story in order (joined, pieces with
// a growing count, completed after its last piece, left last, nothing
// after), and samples with counters that never go down.
func checkOrdered(t *testing.T, run *lab.Run) {
	t.Helper()
	if !slices.IsSortedFunc(run.Events, func(a, b lab.Event) int { return int(a.At - b.At) }) {
		t.Error("events are not in time order")
	}
	type state struct {
		joined, completed, left bool
		have                    int
	}
	st := make([]state, len(run.Peers))
	for _, e := range run.Events {
		if e.At < 0 || e.At > run.End {
			t.Errorf("event %+v outside the run (end %v)", e, run.End)
		}
		s := &st[e.Peer]
		if s.left {
			t.Errorf("event %+v after the peer left", e)
		}
		switch e.Kind {
		case lab.Joined:
			if s.joined {
				t.Errorf("peer %d joined twice", e.Peer)
			}
			s.joined = true
		case lab.Piece:
			if !s.joined || s.completed || e.Have != s.have+1 {
				t.Errorf("piece event %+v out of order (have %d)", e, s.have)
			}
			s.have = e.Have
		case lab.Completed:
			if s.have != run.Content.Pieces || s.completed {
				t.Errorf("peer %d completed with %d of %d pieces", e.Peer, s.have, run.Content.Pieces)
			}
			s.completed = true
		case lab.Left:
			s.left = true
		}
	}
	for id, s := range st {
		if !s.joined || !s.left {
			t.Errorf("peer %d: joined %v, left %v", id, s.joined, s.left)
		}
	}
	last := map[int]lab.Sample{}
	for _, s := range run.Samples {
		if p, ok := last[s.Peer]; ok && (s.At < p.At || s.Downloaded < p.Downloaded || s.Uploaded < p.Uploaded) {
			t.Errorf("sample %+v goes back from %+v", s, p)
		}
		last[s.Peer] = s
	}
}

// finalSample is a peer's last sample: its counters when it left.
func finalSample(run *lab.Run, id int) lab.Sample {
	var out lab.Sample
	for _, s := range run.Samples {
		if s.Peer == id {
			out = s
		}
	}
	return out
}

func count(run *lab.Run, kind lab.EventKind) int {
	n := 0
	for _, e := range run.Events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

const tinyWorld = `
name: tiny
seed: 3
content: {size: 256KiB, piece_length: 16KiB}
limits: {max_duration: 30s}
groups:
  - {name: seed, count: 1, initial: seed, up: 2MiB/s}
  - name: leechers
    count: 3
    up: [1MiB/s, 2MiB/s]
    down: 4MiB/s
    picker: random
    arrival: {at: 200ms}
`

func TestTinyWorld(t *testing.T) {
	w := parseWorld(t, tinyWorld)
	var reports []Progress
	run := runWorld(t, w, Options{Progress: func(p Progress) { reports = append(reports, p) }})
	if !run.Verified {
		t.Error("not verified")
	}
	if run.Scenario != "tiny" || run.Mode != "emulated" || run.Seed != 3 ||
		run.Content != (lab.Content{Size: 256 << 10, PieceLength: 16 << 10, Pieces: 16}) {
		t.Errorf("run header %+v %+v", run.Scenario, run.Content)
	}
	if len(run.Peers) != 4 || count(run, lab.Joined) != 4 || count(run, lab.Completed) != 3 ||
		count(run, lab.Piece) != 3*16 || count(run, lab.Left) != 4 {
		t.Fatalf("%d peers; events: %d joined, %d completed, %d pieces, %d left",
			len(run.Peers), count(run, lab.Joined), count(run, lab.Completed), count(run, lab.Piece), count(run, lab.Left))
	}
	seed := run.Peers[0]
	if !seed.InitialSeed || seed.Group != "seed" || seed.Up != 2<<20 || seed.Picker != "" || seed.Choker != "tft" {
		t.Errorf("seed entry %+v", seed)
	}
	// Peers that arrive together are listed in schedule order, so the
	// caps, dealt out in turn, come out in the same order in every run.
	for i, p := range run.Peers[1:] {
		wantUp := []int64{1 << 20, 2 << 20, 1 << 20}[i]
		if p.ID != i+1 || p.InitialSeed || p.Group != "leechers" || p.Up != wantUp || p.Down != 4<<20 || p.Picker != "random" || p.Incarnation != 0 {
			t.Errorf("leecher entry %+v (want up %d)", p, wantUp)
		}
		if s := finalSample(run, p.ID); s.Downloaded < 256<<10 {
			t.Errorf("peer %d downloaded %d bytes", p.ID, s.Downloaded)
		}
	}
	// Leechers join at 200 ms, not before; the world ends as soon as the
	// last one completes, long before max_duration.
	for _, e := range run.Events {
		if e.Kind == lab.Joined && e.Peer > 0 && e.At < 200*time.Millisecond {
			t.Errorf("leecher %d joined at %v", e.Peer, e.At)
		}
	}
	lastDone := time.Duration(0)
	for _, e := range run.Events {
		if e.Kind == lab.Completed {
			lastDone = e.At
		}
	}
	if run.End-lastDone > time.Second || run.End > 20*time.Second {
		t.Errorf("world ended at %v, last completion at %v", run.End, lastDone)
	}
	if run.Wall < run.End {
		t.Errorf("wall time %v shorter than the run %v", run.Wall, run.End)
	}
	if len(reports) == 0 {
		t.Fatal("no progress reports")
	}
	final := reports[len(reports)-1]
	if !final.Ended || final.Done != 3 || final.Total != 3 || final.Downloaded < 3*256<<10 || final.World != "tiny" {
		t.Errorf("final progress %+v", final)
	}
}

func TestRestartAsNewLeecher(t *testing.T) {
	w := parseWorld(t, `
name: reincarnation
content: {size: 64KiB, piece_length: 16KiB}
limits: {max_duration: 4s}
groups:
  - {name: seed, count: 1, initial: seed}
  - name: world
    count: 2
    down: 512KiB/s
    arrival: {at: 100ms}
    after_completion: {seed: 200ms, then: restart}
`)
	run := runWorld(t, w, Options{})
	if !run.Verified {
		t.Error("not verified")
	}
	// The world never runs out of leechers, so it ends at max_duration.
	if run.End < 4*time.Second {
		t.Errorf("ended at %v, before max_duration", run.End)
	}
	incs := map[int]bool{}
	later := 0
	for _, p := range run.Peers[1:] {
		if p.InitialSeed || p.Group != "world" {
			t.Errorf("entry %+v", p)
		}
		incs[p.Incarnation] = true
		if p.Incarnation > 0 {
			later++
		}
	}
	// 64 KiB at 512 KiB/s takes an eighth of a second, so each slot goes
	// round several times in 4 s (about three on an idle machine).
	t.Logf("%d entries, %d restarted, %d completions", len(run.Peers), later, count(run, lab.Completed))
	if later < 2 || !incs[1] {
		t.Errorf("%d restarted entries, incarnations %v", later, incs)
	}
	if c := count(run, lab.Completed); c < later {
		t.Errorf("%d completions for %d restarts", c, later)
	}
}

func poissonSrc(seed string) string {
	return `
name: arrivals
seed: ` + seed + `
content: {size: 32KiB, piece_length: 16KiB}
limits: {max_duration: 20s}
groups:
  - {name: seed, count: 1, initial: seed}
  - name: poisson
    count: 6
    arrival: {kind: poisson, rate: 4/s, at: 100ms}
    after_completion: {seed: 0s}
`
}

// joinTimes returns when the Poisson group's peers joined.
func joinTimes(run *lab.Run) []time.Duration {
	var out []time.Duration
	for _, e := range run.Events {
		if e.Kind == lab.Joined && run.Peers[e.Peer].Group == "poisson" {
			out = append(out, e.At)
		}
	}
	return out
}

func TestPoissonArrivalsReproducible(t *testing.T) {
	w := parseWorld(t, poissonSrc("11"))
	var want []time.Duration
	for _, j := range w.Schedule() {
		if j.Group == 1 {
			want = append(want, j.At)
		}
	}
	first := joinTimes(runWorld(t, w, Options{}))
	second := joinTimes(runWorld(t, w, Options{}))
	if len(first) != 6 || len(second) != 6 {
		t.Fatalf("joins %v and %v", first, second)
	}
	// Peers join on the wall clock: never early, and late only by the
	// time it takes to start one.
	for i := range want {
		for _, got := range []time.Duration{first[i], second[i]} {
			if got < want[i] || got > want[i]+500*time.Millisecond {
				t.Errorf("arrival %d at %v, scheduled %v", i, got, want[i])
			}
		}
	}
	other := parseWorld(t, poissonSrc("12")).Schedule()
	same := true
	for i, j := range other[1:] {
		same = same && math.Abs(float64(j.At-want[i])) < float64(time.Millisecond)
	}
	if same {
		t.Error("another seed gives the same arrivals")
	}
}

func TestGossipWorld(t *testing.T) {
	w := parseWorld(t, `
name: rumours
content: {size: 128KiB, piece_length: 16KiB}
limits: {max_duration: 40s}
groups:
  - name: seed
    count: 1
    initial: seed
    gossip: {mode: pushpull, fanout: 3, interval: 100ms}
  - name: peers
    count: 5
    gossip: {mode: pushpull, fanout: 3, interval: 100ms}
    arrival: {at: 200ms}
`)
	run := runWorld(t, w, Options{})
	if !run.Verified || count(run, lab.Completed) != 5 {
		t.Fatalf("verified %v, %d completed", run.Verified, count(run, lab.Completed))
	}
	for _, p := range run.Peers {
		if p.Gossip != "pushpull" || p.Picker != "" || p.Choker != "" {
			t.Errorf("gossip peer entry %+v", p)
		}
	}
	if run.End > 30*time.Second {
		t.Errorf("8 pieces took %v to spread", run.End)
	}
}

func TestSimNotImplemented(t *testing.T) {
	w := parseWorld(t, strings.Replace(tinyWorld, "seed: 3", "seed: 3\nmode: sim", 1))
	_, err := Run(context.Background(), w, Options{})
	if !errors.Is(err, ErrSimNotImplemented) {
		t.Fatalf("err = %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	w := parseWorld(t, tinyWorld)
	_, err := Run(context.Background(), w, Options{MaxMemory: 512 << 10})
	if err == nil || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("err = %v", err)
	}
}

func TestCancel(t *testing.T) {
	// Leechers with a tiny download cap would take minutes; cancelling
	// must stop the world at once and return what was recorded.
	w := parseWorld(t, strings.Replace(tinyWorld, "down: 4MiB/s", "down: 1KiB/s", 1))
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 1)
	go func() {
		<-started
		cancel()
	}()
	begin := time.Now()
	run, err := Run(ctx, w, Options{SampleEvery: 50 * time.Millisecond, Progress: func(p Progress) {
		if p.Present == 4 {
			select {
			case started <- struct{}{}:
			default:
			}
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(begin) > 10*time.Second {
		t.Errorf("cancelled world took %v to stop", time.Since(begin))
	}
	if run == nil || len(run.Peers) != 4 || count(run, lab.Left) != 4 || count(run, lab.Completed) != 0 {
		t.Fatalf("partial run %+v", run)
	}
	checkOrdered(t, run)
}

func TestContentAndVerification(t *testing.T) {
	w := parseWorld(t, tinyWorld)
	mi, data, err := makeContent(w)
	if err != nil {
		t.Fatal(err)
	}
	mi2, data2, _ := makeContent(w)
	if mi.InfoHash != mi2.InfoHash || !slices.Equal(data, data2) {
		t.Error("the same seed made different content")
	}
	w.Seed++
	if mi3, _, _ := makeContent(w); mi3.InfoHash == mi.InfoHash {
		t.Error("another seed made the same content")
	}
	if mi.Info.NumPieces() != 16 || mi.Info.TotalLength() != 256<<10 {
		t.Errorf("torrent has %d pieces, %d bytes", mi.Info.NumPieces(), mi.Info.TotalLength())
	}

	wd := &world{meta: mi, data: data}
	st, err := storage.NewMemory(&mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	if wd.holdsContent(st) {
		t.Error("an empty storage holds the content")
	}
	st.WriteAt(data, 0)
	if !wd.holdsContent(st) {
		t.Error("a storage with the content does not hold it")
	}
	st.WriteAt([]byte{data[200000] ^ 1}, 200000)
	if wd.holdsContent(st) {
		t.Error("a storage with one byte flipped holds the content")
	}
}
