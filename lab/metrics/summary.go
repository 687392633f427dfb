package metrics

import (
	"cmp"
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/lab"
)

// AllGroups names the overall aggregate wherever groups are listed
// (series, tables), so it can never collide with the empty group name a
// scenario may leave unset.
const AllGroups = "all"

// Summary is everything the lab reports about one run.
type Summary struct {
	Scenario string      `json:"scenario"`
	Mode     string      `json:"mode"`
	Seed     uint64      `json:"seed"`
	Content  lab.Content `json:"content"`
	// End is the run's length and Wall its real duration, in seconds.
	End      float64 `json:"end_s"`
	Wall     float64 `json:"wall_s"`
	Verified bool    `json:"verified"`
	// Gossip is true when any peer gossiped or any useless gossip
	// transfer was counted; reports show redundancy only then.
	Gossip bool `json:"gossip"`

	// Overall aggregates every peer; its Name is AllGroups.
	Overall GroupStats `json:"overall"`
	// Groups are in order of the groups' first peer in the run.
	Groups []GroupStats `json:"groups"`
	// Peers are in the run's order (join order).
	Peers []PeerStats `json:"peers"`

	// CompletedOverTime and BytesOverTime are step series (see Series):
	// first the overall one, named AllGroups, then one per group.
	CompletedOverTime []Series `json:"completed_over_time"`
	BytesOverTime     []Series `json:"bytes_over_time"`
	// Progress has one curve per leecher, in the run's order.
	Progress []PeerSeries `json:"progress"`

	Bound Bound `json:"bound"`
	// Incentives is set only when leechers use more than one choker.
	Incentives *Incentives `json:"incentives,omitempty"`
}

// PeerStats is what happened to one peer.
type PeerStats struct {
	ID          int    `json:"id"`
	Group       string `json:"group"`
	InitialSeed bool   `json:"initial_seed"`
	Incarnation int    `json:"incarnation"`
	// Up and Down are the link capacities in bytes/s (0: unlimited).
	Up   int64 `json:"up"`
	Down int64 `json:"down"`

	// Joined is the time of the peer's Joined event (0 if it has none).
	Joined float64 `json:"joined_s"`
	// Completed is the absolute time of its first Completed event and
	// CompletionTime that minus Joined; both nil for seeds and for
	// leechers that never completed.
	Completed      *float64 `json:"completed_s"`
	CompletionTime *float64 `json:"completion_time_s"`
	Left           *float64 `json:"left_s"`
	// Have is the most pieces the peer was seen to hold.
	Have int `json:"have"`

	// Counters from the peer's last sample.
	Downloaded int64 `json:"downloaded"`
	Uploaded   int64 `json:"uploaded"`
	Wasted     int64 `json:"wasted"`
	Useless    int   `json:"useless"`

	// ShareRatio is Uploaded/Downloaded, nil when nothing was downloaded.
	ShareRatio *float64 `json:"share_ratio"`
	// DownloadRate is the useful bytes a leecher got per second of
	// leeching (see docs/results-schema.md); nil for seeds.
	DownloadRate *float64 `json:"download_rate_bps"`
}

// GroupStats aggregates the peers of one group (or all of them).
type GroupStats struct {
	Name string `json:"name"`
	// Strategies of the group's leechers (of its seeds when it has no
	// leechers): the common value, or "mixed".
	Picker string `json:"picker,omitempty"`
	Choker string `json:"choker,omitempty"`
	Gossip string `json:"gossip,omitempty"`

	Peers     int `json:"peers"`
	Seeds     int `json:"seeds"`
	Leechers  int `json:"leechers"`
	Completed int `json:"completed"`

	// CompletionTime (join → completed) and CompletedAt (absolute) over
	// the leechers that completed; nil when none did.
	CompletionTime *Dist    `json:"completion_time_s"`
	CompletedAt    *Dist    `json:"completed_at_s"`
	LastCompletion *float64 `json:"last_completion_s"`

	// Byte and transfer totals over every member, seeds included.
	Downloaded int64 `json:"downloaded"`
	Uploaded   int64 `json:"uploaded"`
	Wasted     int64 `json:"wasted"`
	Useless    int   `json:"useless"`
	// WastedFraction is Wasted/Downloaded.
	WastedFraction *float64 `json:"wasted_fraction"`

	// ShareRatio is ΣUploaded/ΣDownloaded over the leechers, and
	// MeanShareRatio the mean of their own ratios (leechers that
	// downloaded something). Seeds are left out: their ratio is infinite.
	ShareRatio     *float64 `json:"share_ratio"`
	MeanShareRatio *float64 `json:"mean_share_ratio"`
	// DownloadRate is the distribution of the leechers' download rates.
	DownloadRate *Dist `json:"download_rate_bps"`
	// Jain's fairness index of the leechers' share ratios (reciprocity:
	// do peers give back in proportion to what they take?) and of their
	// download rates (equality of service regardless of contribution).
	JainShareRatio   *float64 `json:"jain_share_ratio"`
	JainDownloadRate *float64 `json:"jain_download_rate"`
}

// Compute measures run. It never fails: whatever a run lacks shows as
// nil (null) fields. Events and samples naming a peer absent from
// run.Peers are ignored, since they cannot be put in a group.
func Compute(run lab.Run) *Summary {
	s := &Summary{
		Scenario: run.Scenario,
		Mode:     run.Mode,
		Seed:     run.Seed,
		Content:  run.Content,
		End:      sec(run.End),
		Wall:     sec(run.Wall),
		Verified: run.Verified,
	}
	index := peerIndex(run.Peers)
	events := byTime(run.Events, func(e lab.Event) time.Duration { return e.At })
	samples := byTime(run.Samples, func(s lab.Sample) time.Duration { return s.At })
	s.Peers = peerStats(run, index, events, samples)

	var names []string
	members := map[string][]int{}
	all := make([]int, len(s.Peers))
	for i, p := range s.Peers {
		all[i] = i
		if _, ok := members[p.Group]; !ok {
			names = append(names, p.Group)
		}
		members[p.Group] = append(members[p.Group], i)
		if run.Peers[i].Gossip != "" || p.Useless > 0 {
			s.Gossip = true
		}
	}
	s.Overall = groupStats(AllGroups, all, s.Peers, run.Peers)
	for _, g := range names {
		s.Groups = append(s.Groups, groupStats(g, members[g], s.Peers, run.Peers))
	}

	s.CompletedOverTime = append(s.CompletedOverTime, completedSeries(AllGroups, all, s.Peers, s.End))
	s.BytesOverTime = append(s.BytesOverTime, bytesSeries(AllGroups, all, samples, index, len(run.Peers), s.End))
	for _, g := range names {
		s.CompletedOverTime = append(s.CompletedOverTime, completedSeries(g, members[g], s.Peers, s.End))
		s.BytesOverTime = append(s.BytesOverTime, bytesSeries(g, members[g], samples, index, len(run.Peers), s.End))
	}
	s.Progress = progressSeries(run, index, events, s.Peers)
	s.Bound = fluidBound(run.Content, s.Peers)
	s.Incentives = incentives(s.Groups)
	return s
}

// sec converts a world duration to the float seconds every measure uses.
func sec(d time.Duration) float64 { return d.Seconds() }

// peerIndex maps peer IDs to their position in peers; a duplicate ID
// keeps its first entry.
func peerIndex(peers []lab.Peer) map[int]int {
	m := make(map[int]int, len(peers))
	for i, p := range peers {
		if _, dup := m[p.ID]; !dup {
			m[p.ID] = i
		}
	}
	return m
}

// byTime returns a copy of a run's events or samples in time order,
// sorted once for every measure. Drivers already record them so, but a
// stable sort costs little and makes every measure independent of that
// promise.
func byTime[T any](xs []T, at func(T) time.Duration) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(at(a), at(b)) })
	return out
}

// peerStats measures every peer from the events and samples, both in time
// order.
func peerStats(run lab.Run, index map[int]int, events []lab.Event, samples []lab.Sample) []PeerStats {
	ps := make([]PeerStats, len(run.Peers))
	joined := make([]bool, len(run.Peers))
	for i, p := range run.Peers {
		ps[i] = PeerStats{
			ID: p.ID, Group: p.Group, InitialSeed: p.InitialSeed,
			Incarnation: p.Incarnation, Up: p.Up, Down: p.Down,
		}
		if p.InitialSeed {
			ps[i].Have = run.Content.Pieces
		}
	}
	for _, e := range events {
		i, ok := index[e.Peer]
		if !ok {
			continue
		}
		p := &ps[i]
		t := sec(e.At)
		switch e.Kind {
		case lab.Joined:
			if !joined[i] {
				joined[i] = true
				p.Joined = t
			}
		case lab.Piece:
			p.Have = max(p.Have, e.Have)
		case lab.Completed:
			if p.Completed == nil && !p.InitialSeed {
				p.Completed = ptr(t)
				p.Have = run.Content.Pieces
			}
		case lab.Left:
			if p.Left == nil {
				p.Left = ptr(t)
			}
		}
	}

	// The last sample of each peer holds its final cumulative counters.
	for _, smp := range samples {
		i, ok := index[smp.Peer]
		if !ok {
			continue
		}
		p := &ps[i]
		p.Downloaded, p.Uploaded, p.Wasted, p.Useless = smp.Downloaded, smp.Uploaded, smp.Wasted, smp.Useless
	}

	end := sec(run.End)
	for i := range ps {
		p := &ps[i]
		p.ShareRatio = ratio(float64(p.Uploaded), float64(p.Downloaded))
		if p.InitialSeed {
			continue
		}
		if p.Completed != nil {
			p.CompletionTime = ptr(*p.Completed - p.Joined)
		}
		p.DownloadRate = downloadRate(p, run.Content, end)
	}
	return ps
}

// downloadRate is the useful bytes a leecher obtained per second spent
// leeching: the content size over the completion time for a peer that
// completed, else the bytes of the pieces it holds over the time from its
// join to its departure (or the run's end). Counting pieces rather than
// Downloaded keeps wasted and duplicate bytes out, and dividing by the
// leeching time, not the run's length, lets a free rider that never
// completes be compared with peers that do.
func downloadRate(p *PeerStats, c lab.Content, end float64) *float64 {
	if p.CompletionTime != nil {
		return ratio(float64(c.Size), *p.CompletionTime)
	}
	stop := end
	if p.Left != nil {
		stop = *p.Left
	}
	useful := min(int64(p.Have)*c.PieceLength, c.Size)
	if p.Have >= c.Pieces {
		useful = c.Size
	}
	if stop <= p.Joined {
		return nil
	}
	return ptr(float64(useful) / (stop - p.Joined))
}

func groupStats(name string, idx []int, ps []PeerStats, peers []lab.Peer) GroupStats {
	g := GroupStats{Name: name, Peers: len(idx)}
	var done, at, shares, rates []float64
	var leechers []int
	var lUp, lDown int64
	for _, i := range idx {
		p := ps[i]
		g.Downloaded += p.Downloaded
		g.Uploaded += p.Uploaded
		g.Wasted += p.Wasted
		g.Useless += p.Useless
		if p.InitialSeed {
			g.Seeds++
			continue
		}
		leechers = append(leechers, i)
		lUp += p.Uploaded
		lDown += p.Downloaded
		if p.ShareRatio != nil {
			shares = append(shares, *p.ShareRatio)
		}
		if p.DownloadRate != nil {
			rates = append(rates, *p.DownloadRate)
		}
		if p.Completed != nil {
			done = append(done, *p.CompletionTime)
			at = append(at, *p.Completed)
		}
	}
	g.Leechers = len(leechers)
	g.Completed = len(done)
	g.CompletionTime = NewDist(done)
	g.CompletedAt = NewDist(at)
	if g.CompletedAt != nil {
		g.LastCompletion = ptr(g.CompletedAt.Max)
	}
	g.WastedFraction = ratio(float64(g.Wasted), float64(g.Downloaded))
	g.ShareRatio = ratio(float64(lUp), float64(lDown))
	g.MeanShareRatio = mean(shares)
	g.DownloadRate = NewDist(rates)
	g.JainShareRatio = Jain(shares)
	g.JainDownloadRate = Jain(rates)

	strat := leechers
	if len(strat) == 0 {
		strat = idx
	}
	g.Picker = common(strat, func(i int) string { return peers[i].Picker })
	g.Choker = common(strat, func(i int) string { return peers[i].Choker })
	g.Gossip = common(strat, func(i int) string { return peers[i].Gossip })
	return g
}

// common returns the value f gives every index, or "mixed".
func common(idx []int, f func(int) string) string {
	if len(idx) == 0 {
		return ""
	}
	v := f(idx[0])
	for _, i := range idx[1:] {
		if f(i) != v {
			return "mixed"
		}
	}
	return v
}
