package client

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// AnnounceFunc sends one announce: Tiers.AnnounceWith makes one that
// walks a torrent's trackers, and tests and simulations supply their own.
type AnnounceFunc func(ctx context.Context, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, error)

// Progress is what an announce reports about a torrent: bytes uploaded
// and downloaded since the "started" event, and bytes still missing.
type Progress struct {
	Uploaded, Downloaded, Left int64
}

// Defaults for AnnouncerConfig's zero fields.
const (
	// DefaultInterval is used when a tracker names no interval.
	DefaultInterval = 30 * time.Minute
	// DefaultRetryMin and DefaultRetryMax bound the wait after a failed
	// announce, which doubles with each failure in a row.
	DefaultRetryMin = 15 * time.Second
	DefaultRetryMax = 30 * time.Minute
	// DefaultStopTimeout bounds the "stopped" announce at shutdown: it
	// is a courtesy to the tracker and must not hold up an exit.
	DefaultStopTimeout = 5 * time.Second
)

// AnnouncerConfig configures an Announcer. Announce and Progress are
// required.
type AnnouncerConfig struct {
	Announce AnnounceFunc
	// InfoHash is the torrent's. PeerID and Port, when not zero, override
	// the Client's.
	InfoHash metainfo.Hash
	PeerID   tracker.PeerID
	Port     uint16
	// NumWant is how many peers to ask for; 0 leaves it to the tracker.
	NumWant int
	// Progress is read just before each announce.
	Progress func() Progress
	// OnAnnounce, if set, is told the outcome of every announce, peers
	// included. It runs on Run's goroutine, so it should hand the peers
	// on rather than dial them itself.
	OnAnnounce func(Result)
	// After makes the timers (default time.After).
	After func(time.Duration) <-chan time.Time
	// DefaultInterval, RetryMin, RetryMax and StopTimeout default to the
	// constants of the same names.
	DefaultInterval    time.Duration
	RetryMin, RetryMax time.Duration
	StopTimeout        time.Duration
}

// Result is the outcome of one announce.
type Result struct {
	Event    tracker.Event
	Progress Progress
	// Response is the tracker's answer, nil when Err is set.
	Response *tracker.AnnounceResponse
	Err      error
	// Next is how long until the next announce is due, unless an event
	// comes first; 0 after "stopped".
	Next time.Duration
}

// Announcer runs one torrent's announces: "started" first (repeated until
// a tracker accepts it), then a regular announce every interval the
// tracker names, "completed" once when told, and "stopped" at shutdown.
// A failed announce is retried after a wait that doubles with each
// failure, from RetryMin up to RetryMax.
type Announcer struct {
	cfg        AnnouncerConfig
	completed  chan struct{}
	reannounce chan struct{}
	ran        atomic.Bool
	// handled, when set (by tests), is told each wake-up of Run's loop
	// once it has been dealt with, announce included, so that a test
	// knows a signal was handled before it checks what was sent.
	handled func(what string)
}

// NewAnnouncer returns an Announcer for cfg; Run starts it.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.DefaultInterval <= 0 {
		cfg.DefaultInterval = DefaultInterval
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	return &Announcer{
		cfg:        cfg,
		completed:  make(chan struct{}, 1),
		reannounce: make(chan struct{}, 1),
	}
}

// Completed asks for the "completed" announce, sent at once if "started"
// has been accepted and right after it otherwise; later calls are
// ignored. Call it when the last piece is verified, not when a torrent
// starts out complete: "completed" counts a download.
func (a *Announcer) Completed() { signal(a.completed) }

// Reannounce asks for a regular announce ahead of the interval, to get
// more peers. It waits for the tracker's "min interval" since the last
// announce, and is ignored while failed announces are being retried,
// since the retry will fetch peers anyway.
func (a *Announcer) Reannounce() { signal(a.reannounce) }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // one pending request is as good as two
	}
}

// ErrRunTwice is returned by a second call of Run.
var ErrRunTwice = errors.New("announcer: Run called twice")

// Run announces until ctx is done, then sends "stopped" if a tracker may
// know the torrent (an announce was accepted, or one was cut short by
// ctx) and returns that announce's error. Run may be called once.
func (a *Announcer) Run(ctx context.Context) error {
	if !a.ran.CompareAndSwap(false, true) {
		return ErrRunTwice
	}
	if a.cfg.Announce == nil || a.cfg.Progress == nil {
		return errors.New("announcer: AnnouncerConfig.Announce and Progress are required")
	}
	var (
		acked         bool // a tracker accepted an announce
		cut           bool // an announce was cut short by ctx
		wantCompleted bool
		completedSent bool
		failures      int
		next          <-chan time.Time // the regular announce or the retry
		minWait       <-chan time.Time // nil once "min interval" has passed
		early         bool             // a Reannounce waits for minWait
		now           = true           // announce at once
		what          string           // the last wake-up, for handled
	)
	for {
		if now {
			now = false
			ev := tracker.EventNone
			switch {
			case !acked:
				ev = tracker.EventStarted
			case wantCompleted && !completedSent:
				ev = tracker.EventCompleted
			}
			res := a.send(ctx, ev, a.numWant())
			if res.Err != nil && ctx.Err() != nil {
				// Shutdown cut the announce short; the tracker may or
				// may not have it.
				cut = true
				break
			}
			if res.Err == nil {
				acked, failures, early = true, 0, false
				if ev == tracker.EventCompleted {
					completedSent = true
				}
				r := res.Response
				interval := r.Interval
				if interval <= 0 {
					interval = a.cfg.DefaultInterval
				}
				res.Next = max(interval, r.MinInterval)
				minWait = nil
				if r.MinInterval > 0 {
					minWait = a.cfg.After(r.MinInterval)
				}
				// "completed" asked for before "started" was accepted
				// goes out right after it.
				now = wantCompleted && !completedSent
			} else {
				failures++
				res.Next = a.backoff(failures)
				minWait = nil
			}
			// Report before arming the timer: whoever waits on the timer
			// (a test's fake, for one) then sees this announce's result.
			a.report(res)
			next = a.cfg.After(res.Next)
			if now {
				continue
			}
		}
		if a.handled != nil && what != "" {
			a.handled(what) // after any announce it caused
		}
		select {
		case <-ctx.Done():
			what = "done"
		case <-next:
			what, now = "next", true
		case <-minWait:
			what, now, minWait = "min", early, nil
		case <-a.completed:
			what = "completed"
			if !wantCompleted {
				wantCompleted = true
				now = acked
			}
		case <-a.reannounce:
			what = "reannounce"
			switch {
			case failures > 0:
			case minWait == nil:
				now = true
			default:
				early = true
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !acked && !cut {
		return nil
	}
	return a.stop(ctx)
}

// stop sends "stopped" under a context of its own, since ctx is done,
// bounded by StopTimeout.
func (a *Announcer) stop(ctx context.Context) error {
	sctx, cancel := withTimer(context.WithoutCancel(ctx), a.cfg.After, a.cfg.StopTimeout)
	defer cancel()
	res := a.send(sctx, tracker.EventStopped, 0)
	a.report(res)
	return res.Err
}

func (a *Announcer) numWant() int {
	if a.cfg.NumWant <= 0 {
		return tracker.NumWantDefault
	}
	return a.cfg.NumWant
}

func (a *Announcer) send(ctx context.Context, ev tracker.Event, numWant int) Result {
	p := a.cfg.Progress()
	req := tracker.AnnounceRequest{
		InfoHash:   a.cfg.InfoHash,
		PeerID:     a.cfg.PeerID,
		Port:       a.cfg.Port,
		Uploaded:   p.Uploaded,
		Downloaded: p.Downloaded,
		Left:       p.Left,
		Event:      ev,
		NumWant:    numWant,
		Compact:    true,
	}
	resp, err := a.cfg.Announce(ctx, req)
	if err == nil && resp == nil {
		err = errors.New("announce returned no response")
	}
	if err != nil {
		return Result{Event: ev, Progress: p, Err: err}
	}
	return Result{Event: ev, Progress: p, Response: resp}
}

func (a *Announcer) report(r Result) {
	if a.cfg.OnAnnounce != nil {
		a.cfg.OnAnnounce(r)
	}
}

// backoff is the wait after the n-th failure in a row: RetryMin·2^(n-1),
// at most RetryMax.
func (a *Announcer) backoff(n int) time.Duration {
	d := a.cfg.RetryMin
	for i := 1; i < n && d < a.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, a.cfg.RetryMax)
}
