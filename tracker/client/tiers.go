package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/swarmlab/swarmlab/tracker"
)

// ErrNoTrackers means a torrent names no tracker this package can use.
var ErrNoTrackers = errors.New("no usable tracker (http, https or udp)")

// Tiers holds one torrent's trackers in BEP 12 order: tiers are tried
// in turn, the trackers of a tier in their current order, and a tracker
// that answers moves to the front of its tier, so that the next announce
// goes straight to it. Its methods are safe for concurrent use.
//
// Tiers also remembers each tracker's "tracker id" and sends it back to
// that tracker only.
type Tiers struct {
	mu         sync.Mutex
	tiers      [][]string
	trackerIDs map[string]string
}

// NewTiers returns the tiers of a torrent whose metainfo has announce and
// announceList. As BEP 12 says, announceList, when it has any tracker,
// replaces announce, and each tier is shuffled once here; rng makes the
// shuffle reproducible (nil: no shuffle, the order of the metainfo).
// Duplicate URLs and URLs whose scheme is not http, https or udp are left
// out, and so are tiers left empty.
func NewTiers(announce string, announceList [][]string, rng *rand.Rand) *Tiers {
	t := &Tiers{trackerIDs: make(map[string]string)}
	seen := make(map[string]bool)
	for _, tier := range announceList {
		var kept []string
		for _, u := range tier {
			if usable(u) && !seen[u] {
				seen[u] = true
				kept = append(kept, u)
			}
		}
		if len(kept) == 0 {
			continue
		}
		if rng != nil {
			rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		}
		t.tiers = append(t.tiers, kept)
	}
	if len(t.tiers) == 0 && usable(announce) {
		t.tiers = [][]string{{announce}}
	}
	return t
}

func usable(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "udp":
		return true
	}
	return false
}

// List returns a copy of the tiers in their current order.
func (t *Tiers) List() [][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([][]string, len(t.tiers))
	for i, tier := range t.tiers {
		out[i] = slices.Clone(tier)
	}
	return out
}

// Announce sends req to the first tracker that answers, in BEP 12 order,
// and returns its answer and URL. It moves to the next tier only when
// every tracker of a tier has failed, and stops early when ctx ends. If
// every tracker fails, the error joins theirs.
//
// The lock is not held while announcing, so a slow tracker does not block
// List or a concurrent Announce; promotion afterwards works on the order
// as it is then.
func (t *Tiers) Announce(ctx context.Context, c *Client, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, string, error) {
	tiers := t.List()
	if len(tiers) == 0 {
		return nil, "", ErrNoTrackers
	}
	var errs []error
	for _, tier := range tiers {
		for _, u := range tier {
			r := req
			r.TrackerID = t.trackerID(u)
			resp, err := c.Announce(ctx, u, r)
			if err == nil {
				t.succeeded(u, resp.TrackerID)
				return resp, u, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				return nil, "", errors.Join(errs...)
			}
		}
	}
	return nil, "", fmt.Errorf("every tracker failed: %w", errors.Join(errs...))
}

// AnnounceWith returns an AnnounceFunc that announces through t with c,
// for an Announcer.
func (t *Tiers) AnnounceWith(c *Client) AnnounceFunc {
	return func(ctx context.Context, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
		resp, _, err := t.Announce(ctx, c, req)
		return resp, err
	}
}

func (t *Tiers) trackerID(u string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.trackerIDs[u]
}

// succeeded moves u to the front of its tier (BEP 12) and records the
// tracker id it gave, if any; a tracker that stops sending one keeps the
// old, as BEP 3 asks clients to send back the last one received.
func (t *Tiers) succeeded(u, trackerID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if trackerID != "" {
		t.trackerIDs[u] = trackerID
	}
	for _, tier := range t.tiers {
		if i := slices.Index(tier, u); i > 0 {
			copy(tier[1:i+1], tier[:i])
			tier[0] = u
			return
		}
	}
}
