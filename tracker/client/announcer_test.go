package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/tracker"
)

// scripted is an AnnounceFunc the test answers call by call.
type scripted struct{ calls chan *call }

type call struct {
	ctx   context.Context
	req   tracker.AnnounceRequest
	reply chan reply
}

type reply struct {
	resp *tracker.AnnounceResponse
	err  error
}

func newScripted() *scripted { return &scripted{calls: make(chan *call, 16)} }

func (s *scripted) announce(ctx context.Context, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
	c := &call{ctx: ctx, req: req, reply: make(chan reply, 1)}
	s.calls <- c
	select {
	case r := <-c.reply:
		return r.resp, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (s *scripted) next(t *testing.T, want tracker.Event) *call {
	t.Helper()
	c := recv(t, s.calls)
	if c.req.Event != want {
		t.Fatalf("announce with event %q, want %q", c.req.Event, want)
	}
	return c
}

func (c *call) ok(interval, minInterval time.Duration) {
	c.reply <- reply{resp: &tracker.AnnounceResponse{Interval: interval, MinInterval: minInterval,
		Peers: []tracker.Peer{{Addr: ap("10.0.0.1:1")}}}}
}

func (c *call) fail(err error) { c.reply <- reply{err: err} }

// progress is a Progress func the test moves along.
type progress struct {
	mu sync.Mutex
	p  Progress
}

func (p *progress) get() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.p
}

func (p *progress) set(up, down, left int64) {
	p.mu.Lock()
	p.p = Progress{Uploaded: up, Downloaded: down, Left: left}
	p.mu.Unlock()
}

// announcerRig runs an Announcer on scripted announces and fake timers.
type announcerRig struct {
	a        *Announcer
	s        *scripted
	timers   *fakeTimers
	prog     *progress
	handled  chan string
	cancel   context.CancelFunc
	done     chan error
	finished bool // Run returned, with err
	err      error
	mu       sync.Mutex
	results  []Result
}

func startAnnouncer(t *testing.T, cfg AnnouncerConfig) *announcerRig {
	t.Helper()
	r := &announcerRig{s: newScripted(), timers: newFakeTimers(), prog: &progress{},
		handled: make(chan string, 1024), done: make(chan error, 1)}
	r.prog.set(0, 0, 1000)
	cfg.Announce = r.s.announce
	cfg.Progress = r.prog.get
	cfg.After = r.timers.After
	cfg.InfoHash = ih(3)
	cfg.OnAnnounce = func(res Result) {
		r.mu.Lock()
		r.results = append(r.results, res)
		r.mu.Unlock()
	}
	r.a = NewAnnouncer(cfg)
	r.a.handled = func(what string) { r.handled <- what }
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.a.Run(ctx) }()
	t.Cleanup(func() {
		// End Run, refusing whatever it still sends ("stopped").
		cancel()
		for !r.finished {
			select {
			case err := <-r.done:
				r.finished, r.err = true, err
			case c := <-r.s.calls:
				c.fail(errors.New("test over"))
			case <-time.After(watchdog):
				t.Error("Run did not return")
				return
			}
		}
	})
	return r
}

// runErr waits for Run to return and reports its error.
func (r *announcerRig) runErr(t *testing.T) error {
	t.Helper()
	if !r.finished {
		r.err = recv(t, r.done)
		r.finished = true
	}
	return r.err
}

func (r *announcerRig) resultsSoFar() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.results...)
}

// waitHandled waits until Run has dealt with a wake-up of kind what
// ("next", "min", "completed", "reannounce", "done"), passing over others.
func (r *announcerRig) waitHandled(t *testing.T, what string) {
	t.Helper()
	for recv(t, r.handled) != what {
	}
}

func expectTimer(t *testing.T, timers *fakeTimers, want time.Duration) *fakeTimer {
	t.Helper()
	ft := timers.next(t)
	if ft.d != want {
		t.Fatalf("timer of %v, want %v", ft.d, want)
	}
	return ft
}

func TestAnnouncerEventSequence(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{NumWant: 50, Port: 7777})

	c := r.s.next(t, tracker.EventStarted)
	if c.req.InfoHash != ih(3) || c.req.Port != 7777 || c.req.NumWant != 50 ||
		c.req.Uploaded != 0 || c.req.Downloaded != 0 || c.req.Left != 1000 {
		t.Errorf("started: %+v", c.req)
	}
	c.ok(30*time.Minute, 10*time.Minute)
	expectTimer(t, r.timers, 10*time.Minute) // min interval
	next := expectTimer(t, r.timers, 30*time.Minute)

	for i := int64(1); i <= 2; i++ {
		r.prog.set(10*i, 400*i, 1000-400*i)
		next.fire()
		c = r.s.next(t, tracker.EventNone)
		if c.req.Uploaded != 10*i || c.req.Downloaded != 400*i || c.req.Left != 1000-400*i {
			t.Errorf("regular announce %d: %+v", i, c.req)
		}
		c.ok(20*time.Minute, 0) // the tracker may change its mind
		next = expectTimer(t, r.timers, 20*time.Minute)
	}

	r.prog.set(25, 1000, 0)
	r.a.Completed()
	c = r.s.next(t, tracker.EventCompleted)
	if c.req.Uploaded != 25 || c.req.Downloaded != 1000 || c.req.Left != 0 {
		t.Errorf("completed: %+v", c.req)
	}
	c.ok(20*time.Minute, 0)
	next = expectTimer(t, r.timers, 20*time.Minute)
	r.a.Completed() // only once
	r.waitHandled(t, "completed")
	next.fire()
	r.s.next(t, tracker.EventNone).ok(20*time.Minute, 0)
	expectTimer(t, r.timers, 20*time.Minute)

	r.prog.set(99, 1000, 0)
	r.cancel()
	expectTimer(t, r.timers, DefaultStopTimeout)
	c = r.s.next(t, tracker.EventStopped)
	if c.req.Uploaded != 99 || c.req.Left != 0 || c.req.NumWant != 0 {
		t.Errorf("stopped: %+v", c.req)
	}
	if c.ctx.Err() != nil {
		t.Error("stopped announce sent under the cancelled context")
	}
	c.ok(time.Minute, 0)
	if err := r.runErr(t); err != nil {
		t.Errorf("Run: %v", err)
	}

	var events []tracker.Event
	for _, res := range r.resultsSoFar() {
		events = append(events, res.Event)
		if res.Err != nil || res.Response == nil || len(res.Response.Peers) != 1 {
			t.Errorf("result %+v", res)
		}
	}
	want := []tracker.Event{tracker.EventStarted, tracker.EventNone, tracker.EventNone, tracker.EventCompleted,
		tracker.EventNone, tracker.EventStopped}
	if !equalEvents(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
}

func equalEvents(a, b []tracker.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAnnouncerBackoff(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{RetryMin: 15 * time.Second, RetryMax: 40 * time.Second})
	boom := errors.New("tracker down")
	for _, wait := range []time.Duration{15 * time.Second, 30 * time.Second, 40 * time.Second, 40 * time.Second} {
		// Until a tracker accepts it, every try is "started".
		r.s.next(t, tracker.EventStarted).fail(boom)
		expectTimer(t, r.timers, wait).fire()
	}
	r.s.next(t, tracker.EventStarted).ok(0, 0) // no interval: the default
	next := expectTimer(t, r.timers, DefaultInterval)
	next.fire()
	r.s.next(t, tracker.EventNone).fail(boom)
	// Success reset the count: back to the shortest wait.
	expectTimer(t, r.timers, 15*time.Second)

	res := r.resultsSoFar()
	if len(res) != 6 || !errors.Is(res[0].Err, boom) || res[0].Next != 15*time.Second || res[4].Err != nil || res[4].Next != DefaultInterval {
		t.Errorf("results %+v", res)
	}
}

func TestAnnouncerReannounceWaitsForMinInterval(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted).ok(30*time.Minute, 5*time.Minute)
	minTimer := expectTimer(t, r.timers, 5*time.Minute)
	expectTimer(t, r.timers, 30*time.Minute)

	r.a.Reannounce()
	r.waitHandled(t, "reannounce") // the request has been dealt with…
	if n := len(r.s.calls); n != 0 {
		t.Fatalf("%d announces before the min interval passed", n) // …and sent nothing
	}
	minTimer.fire()
	r.s.next(t, tracker.EventNone).ok(30*time.Minute, 5*time.Minute)
	minTimer = expectTimer(t, r.timers, 5*time.Minute)
	expectTimer(t, r.timers, 30*time.Minute)

	// Once the min interval has passed, a request goes out at once.
	minTimer.fire()
	r.waitHandled(t, "min")
	r.a.Reannounce()
	r.s.next(t, tracker.EventNone).ok(30*time.Minute, 0)
	expectTimer(t, r.timers, 30*time.Minute)

	// Without a min interval, at once too.
	r.a.Reannounce()
	r.s.next(t, tracker.EventNone).ok(30*time.Minute, 0)
}

func TestAnnouncerReannounceIgnoredWhileRetrying(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted).ok(30*time.Minute, 0)
	next := expectTimer(t, r.timers, 30*time.Minute)
	next.fire()
	r.s.next(t, tracker.EventNone).fail(errors.New("down"))
	retry := expectTimer(t, r.timers, DefaultRetryMin)
	r.a.Reannounce()
	r.waitHandled(t, "reannounce")
	if n := len(r.s.calls); n != 0 {
		t.Fatalf("%d announces: a reannounce must not cut the retry wait short", n)
	}
	retry.fire()
	r.s.next(t, tracker.EventNone).ok(30*time.Minute, 0)
}

func TestAnnouncerCompletedBeforeStartedAccepted(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted).fail(errors.New("down"))
	retry := expectTimer(t, r.timers, DefaultRetryMin)
	r.prog.set(0, 1000, 0)
	r.a.Completed()
	r.waitHandled(t, "completed")
	if n := len(r.s.calls); n != 0 {
		t.Fatalf("%d announces: completed before started was accepted", n)
	}
	retry.fire()
	// "started" first, then "completed" right away, without a timer.
	r.s.next(t, tracker.EventStarted).ok(30*time.Minute, 10*time.Minute)
	expectTimer(t, r.timers, 10*time.Minute)
	expectTimer(t, r.timers, 30*time.Minute)
	c := r.s.next(t, tracker.EventCompleted)
	if c.req.Left != 0 || c.req.Downloaded != 1000 {
		t.Errorf("completed: %+v", c.req)
	}
	c.ok(30*time.Minute, 0)
}

func TestAnnouncerStopTimeout(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{StopTimeout: 3 * time.Second})
	r.s.next(t, tracker.EventStarted).ok(30*time.Minute, 0)
	expectTimer(t, r.timers, 30*time.Minute)
	r.cancel()
	stopTimer := expectTimer(t, r.timers, 3*time.Second)
	c := r.s.next(t, tracker.EventStopped)
	stopTimer.fire() // the tracker never answers
	<-c.ctx.Done()
	if err := r.runErr(t); !errors.Is(err, ErrTimeout) {
		t.Errorf("Run: %v, want ErrTimeout from the stopped announce", err)
	}
}

func TestAnnouncerNoStoppedIfNeverStarted(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted).fail(&FailureError{Reason: "unregistered"})
	expectTimer(t, r.timers, DefaultRetryMin)
	r.cancel()
	if err := r.runErr(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := len(r.s.calls); n != 0 {
		t.Errorf("%d announces after shutdown; no tracker knows the torrent", n)
	}
}

func TestAnnouncerStoppedAfterCutStart(t *testing.T) {
	// Shutdown while "started" is in flight: the tracker may have it, so
	// "stopped" follows.
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted) // never answered
	r.cancel()
	expectTimer(t, r.timers, DefaultStopTimeout)
	r.s.next(t, tracker.EventStopped).ok(time.Minute, 0)
	if err := r.runErr(t); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestAnnouncerRunTwice(t *testing.T) {
	r := startAnnouncer(t, AnnouncerConfig{})
	r.s.next(t, tracker.EventStarted).ok(time.Hour, 0)
	if err := r.a.Run(context.Background()); !errors.Is(err, ErrRunTwice) {
		t.Errorf("second Run: %v", err)
	}
}
