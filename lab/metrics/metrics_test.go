package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/lab"
)

func at(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func ev(t float64, peer int, kind lab.EventKind, have int) lab.Event {
	return lab.Event{At: at(t), Peer: peer, Kind: kind, Have: have}
}

func smp(t float64, peer int, down, up, wasted int64, useless int) lab.Sample {
	return lab.Sample{At: at(t), Peer: peer, Downloaded: down, Uploaded: up, Wasted: wasted, Useless: useless}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// checkPtr fails unless got is non-nil and near want, or both are "nil"
// (want NaN stands for nil).
func checkPtr(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	switch {
	case math.IsNaN(want) && got != nil:
		t.Errorf("%s = %v, want nil", what, *got)
	case !math.IsNaN(want) && got == nil:
		t.Errorf("%s = nil, want %v", what, want)
	case got != nil && !near(*got, want):
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

var nan = math.NaN()

// sampleRun is a tiny incentive world small enough to work out by hand:
// a seed, two tit-for-tat leechers (group a), a BitTyrant (b) and a free
// rider that gets one piece and leaves (free).
func sampleRun() lab.Run {
	return lab.Run{
		Scenario: "tiny", Mode: "sim", Seed: 7,
		Content: lab.Content{Size: 1000, PieceLength: 250, Pieces: 4},
		Peers: []lab.Peer{
			{ID: 0, Group: "seed", InitialSeed: true, Up: 100},
			{ID: 1, Group: "a", Up: 50, Down: 200, Choker: "tft", Picker: "rarest"},
			{ID: 2, Group: "a", Up: 50, Down: 200, Choker: "tft", Picker: "rarest"},
			{ID: 3, Group: "b", Up: 50, Down: 100, Choker: "bittyrant", Picker: "rarest"},
			{ID: 4, Group: "free", Up: 50, Down: 100, Choker: "freerider", Picker: "rarest"},
		},
		Events: []lab.Event{
			ev(0, 0, lab.Joined, 0), ev(0, 1, lab.Joined, 0), ev(0, 2, lab.Joined, 0),
			ev(1, 3, lab.Joined, 0),
			ev(2, 1, lab.Piece, 1), ev(2, 3, lab.Piece, 1), ev(2, 4, lab.Joined, 0),
			ev(3, 2, lab.Piece, 1), ev(3, 3, lab.Piece, 2),
			ev(4, 1, lab.Piece, 2), ev(4, 3, lab.Piece, 3),
			ev(5, 3, lab.Piece, 4), ev(5, 3, lab.Completed, 0),
			ev(6, 1, lab.Piece, 3), ev(6, 2, lab.Piece, 2),
			ev(8, 1, lab.Piece, 4), ev(8, 1, lab.Completed, 0),
			ev(9, 2, lab.Piece, 3), ev(10, 4, lab.Piece, 1),
			ev(12, 2, lab.Piece, 4), ev(12, 2, lab.Completed, 0), ev(12, 4, lab.Left, 0),
		},
		Samples: []lab.Sample{
			smp(5, 0, 0, 1000, 0, 0), smp(5, 1, 500, 100, 0, 0), smp(5, 2, 250, 0, 0, 0),
			smp(5, 3, 1000, 200, 0, 0), smp(5, 4, 0, 0, 0, 0),
			smp(12, 4, 250, 0, 0, 0),
			smp(20, 0, 0, 3000, 0, 0), smp(20, 1, 1000, 500, 0, 0), smp(20, 2, 1250, 250, 250, 1),
			smp(20, 3, 1000, 200, 0, 0),
		},
		End: at(20),
	}
}

func group(t *testing.T, s *Summary, name string) GroupStats {
	t.Helper()
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %q", name)
	return GroupStats{}
}

func TestComputePeers(t *testing.T) {
	s := Compute(sampleRun())
	tests := []struct {
		id                 int
		completion, rate   float64
		share              float64
		have               int
		downloaded, wasted int64
	}{
		{id: 0, completion: nan, rate: nan, share: nan, have: 4},
		{id: 1, completion: 8, rate: 125, share: 0.5, have: 4, downloaded: 1000},
		{id: 2, completion: 12, rate: 1000.0 / 12, share: 0.2, have: 4, downloaded: 1250, wasted: 250},
		{id: 3, completion: 4, rate: 250, share: 0.2, have: 4, downloaded: 1000},
		// One piece (250 B) over the 10 s from its join at 2 to its leaving.
		{id: 4, completion: nan, rate: 25, share: 0, have: 1, downloaded: 250},
	}
	if len(s.Peers) != len(tests) {
		t.Fatalf("%d peers, want %d", len(s.Peers), len(tests))
	}
	for _, tt := range tests {
		p := s.Peers[tt.id]
		checkPtr(t, "completion time", p.CompletionTime, tt.completion)
		checkPtr(t, "download rate", p.DownloadRate, tt.rate)
		checkPtr(t, "share ratio", p.ShareRatio, tt.share)
		if p.Have != tt.have || p.Downloaded != tt.downloaded || p.Wasted != tt.wasted {
			t.Errorf("peer %d: have %d downloaded %d wasted %d, want %d %d %d",
				tt.id, p.Have, p.Downloaded, p.Wasted, tt.have, tt.downloaded, tt.wasted)
		}
	}
	checkPtr(t, "peer 4 left", s.Peers[4].Left, 12)
	checkPtr(t, "peer 3 completed at", s.Peers[3].Completed, 5)
}

func TestComputeGroups(t *testing.T) {
	s := Compute(sampleRun())
	if got := len(s.Groups); got != 4 {
		t.Fatalf("%d groups, want 4", got)
	}
	if s.Groups[0].Name != "seed" || s.Groups[1].Name != "a" {
		t.Errorf("groups not in order of first peer: %q, %q", s.Groups[0].Name, s.Groups[1].Name)
	}
	a := group(t, s, "a")
	if a.Leechers != 2 || a.Completed != 2 || a.Seeds != 0 || a.Choker != "tft" {
		t.Errorf("a: leechers %d completed %d seeds %d choker %q", a.Leechers, a.Completed, a.Seeds, a.Choker)
	}
	want := Dist{N: 2, Min: 8, P10: 8.4, Median: 10, P90: 11.6, Max: 12, Mean: 10}
	if a.CompletionTime == nil || !distNear(*a.CompletionTime, want) {
		t.Errorf("a completion = %+v, want %+v", a.CompletionTime, want)
	}
	checkPtr(t, "a last completion", a.LastCompletion, 12)
	checkPtr(t, "a share ratio", a.ShareRatio, 750.0/2250)
	checkPtr(t, "a mean share ratio", a.MeanShareRatio, 0.35)
	checkPtr(t, "a wasted fraction", a.WastedFraction, 250.0/2250)
	if a.Useless != 1 || a.Wasted != 250 {
		t.Errorf("a useless %d wasted %d, want 1, 250", a.Useless, a.Wasted)
	}

	seed := group(t, s, "seed")
	if seed.CompletionTime != nil || seed.ShareRatio != nil || seed.LastCompletion != nil || seed.Uploaded != 3000 {
		t.Errorf("seed group: %+v", seed)
	}

	o := s.Overall
	if o.Name != AllGroups || o.Peers != 5 || o.Seeds != 1 || o.Leechers != 4 || o.Completed != 3 {
		t.Errorf("overall counts: %+v", o)
	}
	// Completion times {4, 8, 12}.
	want = Dist{N: 3, Min: 4, P10: 4.8, Median: 8, P90: 11.2, Max: 12, Mean: 8}
	if o.CompletionTime == nil || !distNear(*o.CompletionTime, want) {
		t.Errorf("overall completion = %+v, want %+v", o.CompletionTime, want)
	}
	if o.CompletedAt == nil || o.CompletedAt.Min != 5 || o.CompletedAt.Max != 12 {
		t.Errorf("overall completed at = %+v", o.CompletedAt)
	}
	// Share ratios {0.5, 0.2, 0.2, 0}: (0.9)² / (4 · 0.33).
	checkPtr(t, "jain share ratio", o.JainShareRatio, 0.81/(4*0.33))
	if o.Picker != "rarest" || o.Choker != "mixed" {
		t.Errorf("overall strategies picker %q choker %q", o.Picker, o.Choker)
	}
	if !s.Gossip {
		t.Error("a useless transfer was counted, yet Gossip is false")
	}
}

func distNear(a, b Dist) bool {
	return a.N == b.N && near(a.Min, b.Min) && near(a.P10, b.P10) && near(a.Median, b.Median) &&
		near(a.P90, b.P90) && near(a.Max, b.Max) && near(a.Mean, b.Mean)
}

func TestComputeSeries(t *testing.T) {
	s := Compute(sampleRun())
	tests := []struct {
		name   string
		series []Series
		idx    int
		want   []Point
	}{
		{"completed overall", s.CompletedOverTime, 0, []Point{{0, 0}, {5, 1}, {8, 2}, {12, 3}, {20, 3}}},
		{"completed a", s.CompletedOverTime, 2, []Point{{0, 0}, {8, 1}, {12, 2}, {20, 2}}},
		{"completed seed", s.CompletedOverTime, 1, []Point{{0, 0}, {20, 0}}},
		{"bytes overall", s.BytesOverTime, 0, []Point{{0, 0}, {5, 1750}, {12, 2000}, {20, 3500}}},
		{"bytes free", s.BytesOverTime, 4, []Point{{0, 0}, {5, 0}, {12, 250}, {20, 250}}},
	}
	for _, tt := range tests {
		if got := tt.series[tt.idx].Points; !pointsEqual(got, tt.want) {
			t.Errorf("%s (%s) = %v, want %v", tt.name, tt.series[tt.idx].Name, got, tt.want)
		}
	}
	if len(s.Progress) != 4 {
		t.Fatalf("%d progress curves, want one per leecher (4)", len(s.Progress))
	}
	prog := []struct {
		i    int
		want []Point
	}{
		{0, []Point{{0, 0}, {2, 0.25}, {4, 0.5}, {6, 0.75}, {8, 1}}},
		// The free rider stalls at one piece and leaves at 12.
		{3, []Point{{2, 0}, {10, 0.25}, {12, 0.25}}},
	}
	for _, tt := range prog {
		if got := s.Progress[tt.i].Points; !pointsEqual(got, tt.want) {
			t.Errorf("progress of peer %d = %v, want %v", s.Progress[tt.i].Peer, got, tt.want)
		}
	}
}

// TestComputeUnordered: samples recorded out of time order are measured
// as if in order: final counters from each peer's latest sample, and the
// same byte series.
func TestComputeUnordered(t *testing.T) {
	want := Compute(sampleRun())
	run := sampleRun()
	slices.Reverse(run.Samples)
	got := Compute(run)
	for i, p := range got.Peers {
		w := want.Peers[i]
		if p.Downloaded != w.Downloaded || p.Uploaded != w.Uploaded || p.Wasted != w.Wasted || p.Useless != w.Useless {
			t.Errorf("peer %d counters %+v, want %+v", p.ID, p, w)
		}
	}
	for i, s := range got.BytesOverTime {
		if !pointsEqual(s.Points, want.BytesOverTime[i].Points) {
			t.Errorf("bytes %s = %v, want %v", s.Name, s.Points, want.BytesOverTime[i].Points)
		}
	}
}

func pointsEqual(a, b []Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i].T, b[i].T) || !near(a[i].V, b[i].V) {
			return false
		}
	}
	return true
}

func TestIncentives(t *testing.T) {
	inc := Compute(sampleRun()).Incentives
	if inc == nil {
		t.Fatal("no incentives for a world with three chokers")
	}
	if inc.Baseline != "a" {
		t.Errorf("baseline %q, want a", inc.Baseline)
	}
	base := (125 + 1000.0/12) / 2
	tests := []struct {
		group, role       string
		free              bool
		speedUp, complSpd float64
	}{
		{"a", "baseline", false, 1, 1},
		{"b", "strategic", false, 250 / base, 10.0 / 4},
		{"free", "free rider", true, 25 / base, nan},
	}
	if len(inc.Groups) != len(tests) {
		t.Fatalf("%d groups, want %d (seeds take no part)", len(inc.Groups), len(tests))
	}
	for i, tt := range tests {
		g := inc.Groups[i]
		if g.Group != tt.group || g.FreeRider != tt.free || g.Role != tt.role {
			t.Errorf("group %d = %q free %v role %q, want %q %v %q", i, g.Group, g.FreeRider, g.Role, tt.group, tt.free, tt.role)
		}
		checkPtr(t, tt.group+" speed-up", g.SpeedUp, tt.speedUp)
		checkPtr(t, tt.group+" completion speed-up", g.CompletionSpeedUp, tt.complSpd)
	}

	// A second tit-for-tat group is honest, not strategic; a tie for
	// baseline goes to the first group.
	r2 := sampleRun()
	r2.Peers[2].Group = "a2"
	inc = Compute(r2).Incentives
	if inc.Baseline != "a" || inc.Groups[1].Group != "a2" || inc.Groups[1].Role != "honest" {
		t.Errorf("two tft groups: baseline %q, second group %+v", inc.Baseline, inc.Groups[1])
	}

	// One choker among the leechers: no incentive section.
	r := sampleRun()
	r.Peers = r.Peers[:3]
	if inc := Compute(r).Incentives; inc != nil {
		t.Errorf("incentives for a tit-for-tat-only world: %+v", inc)
	}
}

func TestComputeDegenerate(t *testing.T) {
	tests := []struct {
		name string
		run  lab.Run
	}{
		{"empty", lab.Run{}},
		{"no completions", lab.Run{
			Content: lab.Content{Size: 100, PieceLength: 50, Pieces: 2},
			Peers:   []lab.Peer{{ID: 1, InitialSeed: true, Up: 10}, {ID: 2, Up: 5, Down: 5}},
			Events:  []lab.Event{ev(0, 1, lab.Joined, 0), ev(0, 2, lab.Joined, 0)},
			End:     at(3),
		}},
		{"events of unknown peers", lab.Run{
			Content: lab.Content{Size: 100, PieceLength: 50, Pieces: 2},
			Events:  []lab.Event{ev(1, 9, lab.Completed, 0)},
			Samples: []lab.Sample{smp(1, 9, 100, 0, 0, 0)},
		}},
	}
	for _, tt := range tests {
		s := Compute(tt.run)
		if s.Overall.Completed != 0 || s.Overall.CompletionTime != nil || s.Overall.LastCompletion != nil {
			t.Errorf("%s: completions reported: %+v", tt.name, s.Overall)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("%s: summary does not marshal: %v", tt.name, err)
		}
	}
	s := Compute(tests[1].run)
	if !s.Bound.Applicable || s.Bound.Makespan != nil || s.Bound.Reason == "" {
		t.Errorf("incomplete flash crowd: bound %+v, want T_min without makespan and a reason", s.Bound)
	}
	if got := s.Progress[0].Points; !pointsEqual(got, []Point{{0, 0}, {3, 0}}) {
		t.Errorf("progress of a leecher with no piece = %v", got)
	}
}

func TestDistAndJain(t *testing.T) {
	d := NewDist([]float64{4, 1, 3, 2})
	if d == nil || !distNear(*d, Dist{N: 4, Min: 1, P10: 1.3, Median: 2.5, P90: 3.7, Max: 4, Mean: 2.5}) {
		t.Errorf("NewDist(1..4) = %+v", d)
	}
	if d := NewDist([]float64{7}); d == nil || d.P10 != 7 || d.P90 != 7 {
		t.Errorf("NewDist(7) = %+v", d)
	}
	if NewDist(nil) != nil {
		t.Error("NewDist(nil) is not nil")
	}
	jain := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{2, 2, 2}, 1},
		{[]float64{1, 0, 0, 0}, 0.25},
		{[]float64{1, 3}, 16.0 / 20},
		{nil, nan},
		{[]float64{0, 0}, nan},
	}
	for _, tt := range jain {
		checkPtr(t, "Jain", Jain(tt.xs), tt.want)
	}
}
