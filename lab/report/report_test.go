package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/metrics"
)

func at(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// swarm fakes a flash crowd the way a driver would record it: a seed,
// leechers in groups "fast" and "slow" getting 16 pieces at a pace set by
// speed (with seeded jitter), samples every second, and, when gossip is
// set, a useless push now and then. A "free" leecher, if asked for, gets
// three pieces and leaves. It only has to look like a run, not be one.
func swarm(scenario, picker string, seed uint64, speed float64, gossip, free bool) lab.Run {
	const pieces, plen = 16, 256_000
	rng := rand.New(rand.NewPCG(seed, 1))
	r := lab.Run{
		Scenario: scenario, Mode: "sim", Seed: seed,
		Content: lab.Content{Size: pieces * plen, PieceLength: plen, Pieces: pieces},
		Peers:   []lab.Peer{{ID: 0, Group: "seed", InitialSeed: true, Up: 1_000_000, Picker: picker}},
		Events:  []lab.Event{{At: 0, Peer: 0, Kind: lab.Joined}},
	}
	g := ""
	if gossip {
		g = "push"
	}
	type state struct {
		have          []time.Duration // time of each piece
		done, left    time.Duration
		useless, dupl int
	}
	var states []state
	n := 8
	if free {
		n++
	}
	for i := 1; i <= n; i++ {
		group, up, pace := "fast", int64(500_000), 0.6/speed
		if i%2 == 0 {
			group, up, pace = "slow", 100_000, 1.1/speed
		}
		choker := "tft"
		if free && i == n {
			group, up, choker = "free", 100_000, "freerider"
		}
		r.Peers = append(r.Peers, lab.Peer{ID: i, Group: group, Up: up, Down: 2_000_000, Picker: picker, Choker: choker, Gossip: g})
		r.Events = append(r.Events, lab.Event{At: 0, Peer: i, Kind: lab.Joined})
		var st state
		t := 0.0
		get := pieces
		if choker == "freerider" {
			get = 3
		}
		for k := 1; k <= get; k++ {
			t += pace * (0.5 + rng.Float64())
			st.have = append(st.have, at(t))
			r.Events = append(r.Events, lab.Event{At: at(t), Peer: i, Kind: lab.Piece, Have: k})
			if gossip && rng.IntN(4) == 0 {
				st.useless++
			}
		}
		if get == pieces {
			st.done = at(t)
			r.Events = append(r.Events, lab.Event{At: at(t), Peer: i, Kind: lab.Completed})
		} else {
			st.left = at(t + 5)
			r.Events = append(r.Events, lab.Event{At: st.left, Peer: i, Kind: lab.Left})
		}
		states = append(states, st)
	}
	end := 0.0
	for _, e := range r.Events {
		end = max(end, e.At.Seconds())
	}
	r.End = at(end + 2)
	for s := 1.0; s <= end+2; s++ {
		var total int64
		for i, st := range states {
			if st.left > 0 && at(s) > st.left {
				continue
			}
			k := 0
			for _, h := range st.have {
				if h <= at(s) {
					k++
				}
			}
			down := int64(k) * plen
			useless := st.useless * k / max(1, len(st.have))
			wasted := int64(useless) * plen
			total += down
			up := down / 2
			if r.Peers[i+1].Choker == "freerider" {
				up = 0
			}
			r.Samples = append(r.Samples, lab.Sample{At: at(s), Peer: i + 1,
				Downloaded: down + wasted, Uploaded: up, Wasted: wasted, Useless: useless})
		}
		r.Samples = append(r.Samples, lab.Sample{At: at(s), Peer: 0, Uploaded: total / 2})
	}
	r.Events = sortEvents(r.Events)
	r.Wall = 3 * time.Second
	r.Verified = true
	return r
}

func sortEvents(evs []lab.Event) []lab.Event {
	out := make([]lab.Event, 0, len(evs))
	for len(evs) > 0 {
		m := 0
		for i, e := range evs {
			if e.At < evs[m].At {
				m = i
			}
		}
		out = append(out, evs[m])
		evs = append(evs[:m:m], evs[m+1:]...)
	}
	return out
}

func variants() []lab.Run {
	return []lab.Run{
		swarm("flash", "random", 1, 1, false, false),
		swarm("flash", "rarest", 1, 1.3, true, false),
		swarm("incentives", "rarest", 2, 1, false, true),
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	runs := variants()
	if err := Write(dir, Measure(runs)); err != nil {
		t.Fatal(err)
	}

	res, err := ReadResults(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range res.Runs {
		labels = append(labels, r.Label)
	}
	if want := []string{"flash random/tft", "flash rarest/tft/push", "incentives"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	for i, r := range res.Runs {
		if !reflect.DeepEqual(r.Run, runs[i]) {
			t.Errorf("run %d does not round-trip through results.json", i)
		}
		if r.Summary == nil || r.Summary.Overall.Leechers == 0 {
			t.Errorf("run %d: summary missing or empty: %+v", i, r.Summary)
		}
	}
	// Decoding and encoding again gives the same bytes: no field is lost
	// or changed on the way.
	file, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	var again bytes.Buffer
	if err := writeJSON(&again, res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, again.Bytes()) {
		t.Error("results.json changes when decoded and encoded again")
	}
	var raw map[string]any
	if err := json.Unmarshal(file, &raw); err != nil || raw["schema"] != Schema {
		t.Errorf("schema field = %v (%v)", raw["schema"], err)
	}

	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{"<svg", "Comparison", "<table", "T_min", "Incentives",
		"Useless gossip transfers", "Per-peer progress", res.Runs[2].Label} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(page, "<?xml") || strings.Contains(page, "http://") && strings.Contains(page, "<script") {
		t.Error("report.html embeds an XML declaration or loads a script")
	}
	// completed, bytes, CDF, share ratio, useless, rate, one progress per run.
	if got := strings.Count(page, "<svg"); got != 6+len(runs) {
		t.Errorf("%d plots in report.html, want %d", got, 6+len(runs))
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	run := lab.Run{
		Scenario: "tiny",
		Content:  lab.Content{Size: 100, PieceLength: 50, Pieces: 2},
		Peers:    []lab.Peer{{ID: 0, InitialSeed: true, Group: "s"}, {ID: 1, Group: "l"}, {ID: 2, Group: "l"}},
		Events: []lab.Event{
			{At: 0, Peer: 1, Kind: lab.Joined}, {At: at(1), Peer: 2, Kind: lab.Joined},
			{At: at(2), Peer: 1, Kind: lab.Piece, Have: 1}, {At: at(4), Peer: 1, Kind: lab.Piece, Have: 2},
			{At: at(4), Peer: 1, Kind: lab.Completed},
		},
		Samples: []lab.Sample{{At: at(2), Peer: 1, Downloaded: 50}, {At: at(4), Peer: 1, Downloaded: 100, Uploaded: 25}},
		End:     at(6),
	}
	if err := Write(dir, Measure([]lab.Run{run})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want [][]string
	}{
		{CompletedFile, [][]string{
			{"run", "group", "t_s", "completed"},
			{"tiny", "all", "0", "0"}, {"tiny", "all", "4", "1"}, {"tiny", "all", "6", "1"},
			{"tiny", "s", "0", "0"}, {"tiny", "s", "6", "0"},
			{"tiny", "l", "0", "0"}, {"tiny", "l", "4", "1"}, {"tiny", "l", "6", "1"},
		}},
		{BytesFile, [][]string{
			{"run", "group", "t_s", "downloaded_bytes"},
			{"tiny", "all", "0", "0"}, {"tiny", "all", "2", "50"}, {"tiny", "all", "4", "100"}, {"tiny", "all", "6", "100"},
			{"tiny", "s", "0", "0"}, {"tiny", "s", "6", "0"},
			{"tiny", "l", "0", "0"}, {"tiny", "l", "2", "50"}, {"tiny", "l", "4", "100"}, {"tiny", "l", "6", "100"},
		}},
		{ProgressFile, [][]string{
			{"run", "peer", "group", "t_s", "fraction"},
			{"tiny", "1", "l", "0", "0"}, {"tiny", "1", "l", "2", "0.5"}, {"tiny", "1", "l", "4", "1"},
			{"tiny", "2", "l", "1", "0"}, {"tiny", "2", "l", "6", "0"},
		}},
	}
	for _, tt := range tests {
		if got := readCSV(t, filepath.Join(dir, tt.file)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s =\n%v\nwant\n%v", tt.file, got, tt.want)
		}
	}
	peers := readCSV(t, filepath.Join(dir, PeersFile))
	if len(peers) != 4 || len(peers[0]) != len(peers[1]) {
		t.Fatalf("peers.csv: %v", peers)
	}
	col := map[string]int{}
	for i, h := range peers[0] {
		col[h] = i
	}
	p1, p2 := peers[2], peers[3]
	if p1[col["completion_time_s"]] != "4" || p1[col["share_ratio"]] != "0.25" || p1[col["download_rate_bps"]] != "25" {
		t.Errorf("peer 1 row: %v", p1)
	}
	// Peer 2 never completed nor downloaded: empty cells, not zeros.
	if p2[col["completed_s"]] != "" || p2[col["share_ratio"]] != "" || p2[col["download_rate_bps"]] != "0" {
		t.Errorf("peer 2 row: %v", p2)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	runs := variants()
	if err := Table(&b, Measure(runs)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	labels := Labels(runs)
	for _, want := range []string{"run", "median (s)", "last/T_min", "share ratio", labels[0], labels[2], "speed-up (rate)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The incentive run's overall row: 9 peers... its free rider never
	// completes, so 8 of 9 leechers did and the bound has no makespan.
	var row []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasPrefix(line, labels[2]) && f[len(strings.Fields(labels[2]))] == "all" {
			row = f[len(strings.Fields(labels[2])):]
		}
	}
	if row == nil {
		t.Fatalf("no overall row for %q:\n%s", labels[2], out)
	}
	if row[1] != "10" || row[2] != "8/9" || row[6] != na {
		t.Errorf("overall row %v: want 10 peers, 8/9 completed, last/T_min n/a", row)
	}
}

func TestDegenerateRuns(t *testing.T) {
	tests := []struct {
		name string
		runs []lab.Run
	}{
		{"no runs", nil},
		{"empty run", []lab.Run{{}}},
		{"no completions", []lab.Run{{
			Scenario: "stuck",
			Content:  lab.Content{Size: 10, PieceLength: 10, Pieces: 1},
			Peers:    []lab.Peer{{ID: 0, InitialSeed: true}, {ID: 1, Gossip: "pull"}},
			Events:   []lab.Event{{At: 0, Peer: 1, Kind: lab.Joined}},
			End:      at(5),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, Measure(tt.runs)); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{ResultsFile, CompletedFile, BytesFile, ProgressFile, PeersFile, HTMLFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if _, err := ReadResults(filepath.Join(dir, ResultsFile)); err != nil {
				t.Error(err)
			}
			var b bytes.Buffer
			if err := Table(&b, Measure(tt.runs)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	r := func(s string, seed uint64, mode string) lab.Run { return lab.Run{Scenario: s, Seed: seed, Mode: mode} }
	tests := []struct {
		runs []lab.Run
		want []string
	}{
		{[]lab.Run{r("a", 1, "sim"), r("b", 1, "sim")}, []string{"a", "b"}},
		{[]lab.Run{r("a", 1, "sim"), r("a", 2, "sim"), r("b", 1, "sim")}, []string{"a seed 1", "a seed 2", "b"}},
		{[]lab.Run{r("a", 1, "sim"), r("a", 1, "emulated")}, []string{"a sim", "a emulated"}},
		{[]lab.Run{r("a", 1, "sim"), r("a", 1, "sim")}, []string{"a #1", "a #2"}},
		{[]lab.Run{r("", 0, "")}, []string{"run"}},
		// Variants of one world differ by strategy; the seed they share is
		// left out.
		{[]lab.Run{
			{Scenario: "v", Seed: 3, Peers: []lab.Peer{{InitialSeed: true, Picker: "x"}, {Picker: "random"}}},
			{Scenario: "v", Seed: 3, Peers: []lab.Peer{{Picker: "market"}}},
			{Scenario: "v", Seed: 4, Peers: []lab.Peer{{Picker: "market"}}},
		}, []string{"v random", "v market seed 3", "v market seed 4"}},
	}
	for _, tt := range tests {
		if got := Labels(tt.runs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Labels = %q, want %q", got, tt.want)
		}
	}
}

func TestSavePlotsPNG(t *testing.T) {
	dir := t.TempDir()
	paths, err := SavePlots(dir, Measure(variants()[:2]), "png")
	if err != nil {
		t.Fatal(err)
	}
	// Two flash runs, one with gossip: completed, bytes, CDF, share ratio,
	// useless, and a progress plot each (no incentive world, no rates).
	if len(paths) != 7 {
		t.Errorf("%d plots: %v", len(paths), paths)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 500 {
			t.Errorf("%s: not a usable PNG (%v)", p, err)
		}
	}
}

func TestThin(t *testing.T) {
	pts := make([]metrics.Point, 1001)
	for i := range pts {
		pts[i] = metrics.Point{T: float64(i), V: float64(i) / 1000}
	}
	got := thin(pts, 11)
	if len(got) != 11 || got[0] != pts[0] || got[10] != pts[1000] || got[5] != pts[500] {
		t.Errorf("thin(1001 points, 11) = %v", got)
	}
	if short := thin(pts[:5], 11); len(short) != 5 {
		t.Errorf("thin shortened a 5-point curve to %d", len(short))
	}
}
