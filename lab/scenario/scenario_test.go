package scenario

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
)

func TestParseSizeRateDuration(t *testing.T) {
	sizes := []struct {
		in   string
		want int64
		err  string
	}{
		{"65536", 65536, ""},
		{"512KiB", 512 << 10, ""},
		{"64MiB", 64 << 20, ""},
		{"64 mib", 64 << 20, ""},
		{"1.5M", 3 << 19, ""},
		{"2G", 2 << 30, ""},
		{"16K", 16 << 10, ""},
		{"0.3B", 0, "whole number"},
		{"12 parsecs", 0, "unknown unit"},
		{"MiB", 0, "want a number"},
		{"99999999999999999999", 0, "too large"},
		{"9000000000G", 0, "too large"},
	}
	for _, c := range sizes {
		got, err := ParseSize(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseSize(%q) = %d, %v; want error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}

	rates := []struct {
		in   string
		want int64
		err  string
	}{
		{"256KiB/s", 256 << 10, ""},
		{"256KiB", 256 << 10, ""},
		{"1MiB/s", 1 << 20, ""},
		{"1000", 1000, ""},
		{"0", 0, ""},
		{"unlimited", 0, ""},
		{"10Mbit/s", 0, "bytes per second"},
		{"10Mbps", 0, "bytes per second"},
		{"fast", 0, "want bytes per second"},
	}
	for _, c := range rates {
		got, err := ParseRate(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseRate(%q) = %d, %v; want error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}

	durs := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30s", 30 * time.Second, false},
		{"250ms", 250 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"0", 0, false},
		{"30", 0, true},
		{"-1s", 0, true},
	}
	for _, c := range durs {
		got, err := ParseDuration(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}

	for _, n := range []int64{1, 1000, 1 << 10, 1536 << 10, 64 << 20, 3 << 30} {
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Errorf("FormatSize(%d) = %q reads back as %d, %v", n, FormatSize(n), back, err)
		}
	}
	if FormatRate(0) != "unlimited" || FormatRate(256<<10) != "256KiB/s" {
		t.Errorf("FormatRate: %q, %q", FormatRate(0), FormatRate(256<<10))
	}
}

const minimal = `
name: tiny
content: {size: 256KiB}
groups:
  - {name: seed, count: 1, initial: seed}
  - {name: leechers, count: 3}
`

func TestParseDefaults(t *testing.T) {
	s, err := Parse("tiny.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "tiny" || len(s.Worlds) != 1 {
		t.Fatalf("name %q, %d worlds", s.Name, len(s.Worlds))
	}
	w := s.Worlds[0]
	if w.Name() != "tiny" || w.Mode != Emulated || w.Seed != DefaultSeed {
		t.Errorf("world %q mode %q seed %d", w.Name(), w.Mode, w.Seed)
	}
	if w.Content.PieceLength != 16<<10 || w.Content.Pieces() != 16 {
		t.Errorf("content %+v, %d pieces", w.Content, w.Content.Pieces())
	}
	if w.Tracker != (Tracker{Interval: 5 * time.Second, PeerTTL: 10 * time.Second, NumWant: 50}) {
		t.Errorf("tracker %+v", w.Tracker)
	}
	if w.Limits.MaxDuration != DefaultMaxDuration || w.Limits.MaxConns != DefaultMaxConns {
		t.Errorf("limits %+v", w.Limits)
	}
	l := w.Groups[1]
	if l.Initial != Leecher || l.Picker != "rarest" || l.Choker != "tft" || l.Gossip != nil ||
		l.UpOf(7) != 0 || l.DownOf(2) != 0 || l.Arrival != (Arrival{Kind: Flash}) ||
		l.After != (After{Seed: Forever, Then: Leave}) {
		t.Errorf("leecher group defaults: %+v", l)
	}
	if w.Groups[0].Initial != Seed || w.Peers() != 4 {
		t.Errorf("seed group %+v, %d peers", w.Groups[0], w.Peers())
	}
	if !bytes.Equal(s.Source, []byte(minimal)) {
		t.Error("Source is not the input")
	}
}

func TestParseFull(t *testing.T) {
	src := `
name: full
description: everything set
mode: sim
seed: 42
content: {size: 1MiB, piece_length: 64KiB}
tracker: {interval: 2s, peer_ttl: 7s, numwant: 9}
limits: {max_duration: 90s}
groups:
  - name: seeds
    count: 2
    initial: seed
    up: 1MiB/s
    after_completion: {seed: 30s}
  - name: peers
    count: 8
    up: [64KiB/s, 128KiB, unlimited]
    down: 2MiB/s
    picker: Random
    choker: tft
    gossip: {mode: push-pull, fanout: 2, interval: 500ms}
    arrival: {kind: poisson, rate: 0.5/s, at: 3s}
    after_completion: {seed: 0s, then: restart}
`
	s, err := Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w := s.Worlds[0]
	if w.Mode != Sim || w.Seed != 42 || w.Content != (Content{1 << 20, 64 << 10}) ||
		w.Tracker != (Tracker{2 * time.Second, 7 * time.Second, 9}) || w.Limits.MaxDuration != 90*time.Second {
		t.Errorf("world %+v", w)
	}
	p := w.Groups[1]
	if !slices.Equal(p.Up, []int64{64 << 10, 128 << 10, 0}) || p.UpOf(4) != 128<<10 || p.DownOf(5) != 2<<20 {
		t.Errorf("caps up %v down %v", p.Up, p.Down)
	}
	if p.Picker != "random" || *p.Gossip != (Gossip{"pushpull", 2, 500 * time.Millisecond}) {
		t.Errorf("strategies %q %+v", p.Picker, p.Gossip)
	}
	if p.Arrival != (Arrival{Poisson, 3 * time.Second, 0.5}) || p.After != (After{0, Restart}) {
		t.Errorf("arrival %+v after %+v", p.Arrival, p.After)
	}
	if w.Groups[0].After != (After{30 * time.Second, Leave}) {
		t.Errorf("seed after %+v", w.Groups[0].After)
	}
}

// TestParseErrors checks that each mistake is caught and named by its
// field (and line, where there is one).
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"yaml syntax", "name: [", []string{"bad.yaml"}},
		{"empty", "", []string{"empty scenario"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping"}},
		{"unknown top field", minimal + "colour: blue\n", []string{"bad.yaml:7:", `unknown field "colour"`}},
		{"missing name", "content: {size: 1MiB}\ngroups: [{name: s, count: 1, initial: seed}, {name: l, count: 1}]\n", []string{"name: missing"}},
		{"bad name", strings.Replace(minimal, "name: tiny", "name: a b", 1), []string{`name: "a b"`}},
		{"missing groups", "name: x\ncontent: {size: 1MiB}\n", []string{"groups: missing"}},
		{"missing content", "name: x\ngroups: [{name: s, count: 1, initial: seed}, {name: l, count: 1}]\n", []string{"content: missing"}},
		{"bad size unit", strings.Replace(minimal, "256KiB", "256 parsecs", 1), []string{"bad.yaml:3:", "content.size", "unknown unit"}},
		{"bad piece length", strings.Replace(minimal, "{size: 256KiB}", "{size: 256KiB, piece_length: 20KiB}", 1), []string{"content.piece_length", "power of two"}},
		{"bad mode", minimal + "mode: quantum\n", []string{`mode: unknown mode "quantum"`}},
		{"bad seed", minimal + "seed: -3\n", []string{"seed: want a whole number"}},
		{"fractional interval", minimal + "tracker: {interval: 1500ms}\n", []string{"tracker.interval", "whole number of seconds"}},
		{"ttl below interval", minimal + "tracker: {interval: 10s, peer_ttl: 5s}\n", []string{"tracker.peer_ttl", "expire between"}},
		{"numwant", minimal + "tracker: {numwant: 0}\n", []string{"tracker.numwant", "want 1 to 200"}},
		{"unknown tracker field", minimal + "tracker: {intervall: 5s}\n", []string{`tracker: unknown field "intervall"`}},
		{"no count", strings.Replace(minimal, "{name: leechers, count: 3}", "{name: leechers}", 1), []string{"groups[1].count: missing"}},
		{"count not a number", strings.Replace(minimal, "count: 3", "count: many", 1), []string{"groups[1].count", `got "many"`}},
		{"duplicate group", strings.Replace(minimal, "name: leechers", "name: seed", 1), []string{"groups[1].name", "names two groups"}},
		{"duplicate key", strings.Replace(minimal, "count: 3}", "count: 3, count: 4}", 1), []string{"groups[1].count: given twice"}},
		{"no seed group", strings.Replace(minimal, ", initial: seed", "", 1), []string{"no group starts as a seed"}},
		{"no leecher group", strings.Replace(minimal, "count: 3}", "count: 3, initial: seed}", 1), []string{"no group starts as a leecher"}},
		{"bad role", strings.Replace(minimal, "initial: seed", "initial: lurker", 1), []string{"groups[0].initial", `unknown role "lurker"`}},
		{"bit rate", strings.Replace(minimal, "count: 3}", "count: 3, up: 10Mbit/s}", 1), []string{"groups[1].up", "bytes per second"}},
		{"bad rate in list", strings.Replace(minimal, "count: 3}", "count: 3, down: [1MiB/s, soon]}", 1), []string{"groups[1].down[1]"}},
		{"unknown picker", strings.Replace(minimal, "count: 3}", "count: 3, picker: psychic}", 1), []string{"groups[1].picker", `unknown picker "psychic"`}},
		{"unknown choker", strings.Replace(minimal, "count: 3}", "count: 3, choker: grumpy}", 1), []string{"groups[1].choker", `unknown choker "grumpy"`}},
		{"bad gossip mode", strings.Replace(minimal, "count: 3}", "count: 3, gossip: shout}", 1), []string{"groups[1].gossip", `unknown gossip mode "shout"`}},
		{"gossip fanout", strings.Replace(minimal, "count: 3}", "count: 3, gossip: {mode: push, fanout: 0}}", 1), []string{"groups[1].gossip.fanout"}},
		{"gossip without mode", strings.Replace(minimal, "count: 3}", "count: 3, gossip: {fanout: 2}}", 1), []string{"groups[1].gossip.mode: missing"}},
		{"gossip numwant", strings.Replace(minimal, "count: 3}", "count: 3, gossip: push}", 1) + "tracker: {numwant: 2}\n", []string{"tracker.numwant", "at least 3"}},
		{"poisson without rate", strings.Replace(minimal, "count: 3}", "count: 3, arrival: {kind: poisson}}", 1), []string{"groups[1].arrival.rate", "positive rate"}},
		{"flash with rate", strings.Replace(minimal, "count: 3}", "count: 3, arrival: {rate: 2/s}}", 1), []string{"groups[1].arrival.rate", "kind: poisson"}},
		{"bad arrival kind", strings.Replace(minimal, "count: 3}", "count: 3, arrival: {kind: trickle}}", 1), []string{"groups[1].arrival.kind"}},
		{"arrival after end", strings.Replace(minimal, "count: 3}", "count: 3, arrival: {at: 10m}}", 1), []string{"groups[1].arrival.at", "never join"}},
		{"restart forever", strings.Replace(minimal, "count: 3}", "count: 3, after_completion: {then: restart}}", 1), []string{"groups[1].after_completion", "never happens"}},
		{"bad then", strings.Replace(minimal, "count: 3}", "count: 3, after_completion: {then: explode}}", 1), []string{"groups[1].after_completion.then"}},
		{"seed leaves at once", strings.Replace(minimal, "initial: seed}", "initial: seed, after_completion: {seed: 0s}}", 1), []string{"groups[0].after_completion.seed", "never uploads"}},
		{"group not a mapping", strings.Replace(minimal, "- {name: leechers, count: 3}", "- leechers", 1), []string{"groups[1]: want a mapping"}},
		{"too many peers", strings.Replace(minimal, "count: 3}", "count: 5000}", 1), []string{"at most 1000"}},
		{"zero max duration", minimal + "limits: {max_duration: 0s}\n", []string{"limits.max_duration"}},
		{"max conns", minimal + "limits: {max_conns: -2}\n", []string{"limits.max_conns", "at least 1"}},
		{"gossip max conns", strings.Replace(minimal, "count: 3}", "count: 3, gossip: push}", 1) + "limits: {max_conns: 2}\n", []string{"limits.max_conns", "connect to every other"}},
		{"several mistakes at once", strings.Replace(strings.Replace(minimal, "256KiB", "lots", 1), "count: 3}", "count: 3, picker: psychic}", 1),
			[]string{"content.size", "groups[1].picker"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("bad.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("parsed: %+v", s)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

const withVariants = `
name: cmp
content: {size: 256KiB}
groups:
  - {name: seed, count: 1, initial: seed, up: 64KiB/s}
  - name: peers
    count: 4
    gossip: {mode: push, fanout: 2, interval: 500ms}
variants:
  - name: push
  - name: pull
    description: pull instead
    set: {gossip: {mode: pull}}
  - name: fastseed
    groups: {seed: {up: 1MiB/s}}
    tracker: {numwant: 10}
    content: {piece_length: 32KiB}
`

func TestGossipConnectsFully(t *testing.T) {
	src := strings.Replace(minimal, "count: 3}", "count: 120, gossip: push}", 1) + "tracker: {numwant: 200}\n"
	s, err := Parse("g.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Worlds[0].Limits.MaxConns; got != 120 {
		t.Errorf("a gossip world of 121 peers allows %d connections per peer by default, want 120", got)
	}
}

// TestGossipConfig: every mode the decoder writes maps to its engine
// mode, and a group without gossip to none.
func TestGossipConfig(t *testing.T) {
	for mode, want := range map[string]engine.GossipMode{"push": engine.Push, "pull": engine.Pull, "pushpull": engine.PushPull} {
		got := (&Gossip{Mode: mode, Fanout: 4, Interval: time.Second}).Config()
		if *got != (engine.GossipConfig{Mode: want, Fanout: 4, Interval: time.Second}) || got.Mode.String() != mode {
			t.Errorf("%s: %+v", mode, got)
		}
	}
	if c := (*Gossip)(nil).Config(); c != nil {
		t.Errorf("no gossip: %+v", c)
	}
}

func TestVariants(t *testing.T) {
	s, err := Parse("cmp.yaml", []byte(withVariants))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Worlds) != 3 {
		t.Fatalf("%d worlds", len(s.Worlds))
	}
	push, pull, fast := s.Worlds[0], s.Worlds[1], s.Worlds[2]
	if push.Name() != "cmp/push" || pull.Name() != "cmp/pull" || pull.Description != "pull instead" {
		t.Errorf("names %q %q, description %q", push.Name(), pull.Name(), pull.Description)
	}
	if push.Groups[1].Gossip.Mode != "push" {
		t.Errorf("push variant gossips %+v", push.Groups[1].Gossip)
	}
	// The patch changes the mode and keeps fanout and interval; the seed
	// group, which had no gossip, gets the patched mapping with defaults.
	if g := pull.Groups[1].Gossip; *g != (Gossip{"pull", 2, 500 * time.Millisecond}) {
		t.Errorf("pull variant's peers gossip %+v", g)
	}
	if g := pull.Groups[0].Gossip; g == nil || g.Mode != "pull" || g.Fanout != DefaultGossipFanout {
		t.Errorf("pull variant's seed gossips %+v", g)
	}
	if fast.Groups[0].UpOf(0) != 1<<20 || fast.Groups[1].Gossip.Mode != "push" ||
		fast.Tracker.NumWant != 10 || fast.Content != (Content{256 << 10, 32 << 10}) {
		t.Errorf("fastseed world %+v", fast)
	}
	// Patches must not leak into the other worlds.
	if push.Groups[0].UpOf(0) != 64<<10 || push.Tracker.NumWant != DefaultNumWant || push.Content.PieceLength != 16<<10 {
		t.Errorf("push world changed by another variant: %+v", push)
	}
}

func TestVariantErrors(t *testing.T) {
	cases := []struct {
		name, variants string
		want           []string
	}{
		{"unknown group", "  - {name: v, groups: {nobody: {count: 2}}}\n", []string{`no group is called "nobody"`}},
		{"bad patched value", "  - {name: v, set: {picker: psychic}}\n", []string{`variant "v": groups[0].picker`, "psychic"}},
		{"unknown patched field", "  - {name: v, set: {colour: red}}\n", []string{`variant "v"`, `unknown field "colour"`}},
		{"duplicate variant", "  - {name: v}\n  - {name: v}\n", []string{"names two variants"}},
		{"missing name", "  - {set: {picker: random}}\n", []string{"variants[0].name: missing"}},
		{"set not a mapping", "  - {name: v, set: random}\n", []string{"variants[0].set", "want a mapping"}},
		{"unknown variant field", "  - {name: v, picker: random}\n", []string{`unknown field "picker"`}},
		{"broken world", "  - {name: v, tracker: {numwant: 500}}\n", []string{`variant "v": `, "tracker.numwant"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(minimal+"variants:\n"+c.variants))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Parse("bad.yaml", []byte(minimal+"variants: []\n")); err == nil || !strings.Contains(err.Error(), "empty list") {
		t.Errorf("empty variants: %v", err)
	}
}

func TestBuiltins(t *testing.T) {
	names := Builtins()
	for _, want := range []string{"default", "flashcrowd", "gossip", "incentives", "bigswarm"} {
		if !slices.Contains(names, want) {
			t.Errorf("no built-in %q in %v", want, names)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := BuiltinSource(name)
			if s.Name != name || !bytes.Equal(s.Source, src) {
				t.Errorf("built-in %q is called %q, or its source differs", name, s.Name)
			}
			// Every built-in runs in the emulated world, except those
			// too big for real sockets.
			for _, w := range s.Worlds {
				if w.Mode != Emulated && w.Peers() <= MaxPeers {
					t.Errorf("%s: mode %q", w.Name(), w.Mode)
				}
			}
		})
	}
	if _, err := Builtin("nonesuch"); err == nil || !strings.Contains(err.Error(), "default") {
		t.Errorf("unknown built-in: %v", err)
	}
	if _, err := Builtin("../default"); err == nil {
		t.Error("a path escaped the built-in directory")
	}
	if s, err := Open(""); err != nil || s.Name != DefaultName {
		t.Errorf(`Open("") = %v, %v`, s, err)
	}
	if _, err := Open("nonesuch"); err == nil || !strings.Contains(err.Error(), "built-ins") {
		t.Errorf(`Open("nonesuch"): %v`, err)
	}
}

func poissonWorld(seed uint64) World {
	return World{Seed: seed, Groups: []Group{
		{Name: "seed", Count: 1, Arrival: Arrival{Kind: Flash}},
		{Name: "a", Count: 400, Arrival: Arrival{Kind: Poisson, Rate: 4, At: 2 * time.Second}},
		{Name: "b", Count: 3, Arrival: Arrival{Kind: Flash, At: 5 * time.Second}},
	}}
}

func TestSchedule(t *testing.T) {
	w := poissonWorld(7)
	s1, s2 := w.Schedule(), w.Schedule()
	if !slices.Equal(s1, s2) {
		t.Fatal("the same world scheduled differently twice")
	}
	if len(s1) != 404 {
		t.Fatalf("%d arrivals", len(s1))
	}
	other := poissonWorld(8).Schedule()
	if slices.Equal(s1, other) {
		t.Error("seeds 7 and 8 gave the same schedule")
	}
	if !slices.IsSortedFunc(s1, func(a, b Join) int { return int(a.At - b.At) }) {
		t.Error("schedule not in time order")
	}
	var last time.Duration
	var gaps []float64
	flash := 0
	for _, j := range s1 {
		switch j.Group {
		case 0:
			if j.At != 0 {
				t.Errorf("seed joins at %v", j.At)
			}
		case 2:
			flash++
			if j.At != 5*time.Second {
				t.Errorf("flash crowd peer joins at %v", j.At)
			}
		case 1:
			if j.At <= 2*time.Second {
				t.Errorf("Poisson arrival at %v, before its start", j.At)
			}
			gaps = append(gaps, (j.At - max(last, 2*time.Second)).Seconds())
			last = j.At
		}
	}
	if flash != 3 {
		t.Errorf("%d flash arrivals", flash)
	}
	// 400 exponential gaps of mean 0.25 s: the sample mean is within 15%
	// of it with overwhelming probability (its standard error is 5%).
	mean := 0.0
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	if math.Abs(mean-0.25) > 0.0375 {
		t.Errorf("mean gap %.3fs, want about 0.25s", mean)
	}
	// Adding a group does not move another group's arrivals.
	w2 := poissonWorld(7)
	w2.Groups = append(w2.Groups, Group{Name: "c", Count: 5, Arrival: Arrival{Kind: Poisson, Rate: 1}})
	var a1, a2 []time.Duration
	for _, j := range s1 {
		if j.Group == 1 {
			a1 = append(a1, j.At)
		}
	}
	for _, j := range w2.Schedule() {
		if j.Group == 1 {
			a2 = append(a2, j.At)
		}
	}
	if !slices.Equal(a1, a2) {
		t.Error("adding a group moved group a's arrivals")
	}
}

func TestScheduleTinyRate(t *testing.T) {
	w := World{Seed: 1, Groups: []Group{{Name: "slow", Count: 3, Arrival: Arrival{Kind: Poisson, Rate: 1e-300, At: time.Second}}}}
	for _, j := range w.Schedule() {
		if j.At < time.Second {
			t.Errorf("a peer of a nearly-never process arrives at %v", j.At)
		}
	}
}

func TestDerive(t *testing.T) {
	w := World{Seed: 1}
	seen := map[uint64]string{}
	for _, k := range []struct {
		s string
		i []int
	}{{"content", nil}, {"peer", []int{0}}, {"peer", []int{1}}, {"peer", []int{0, 1}}, {"arrival", []int{0}}} {
		v := w.Derive(k.s, k.i...)
		if v == 0 {
			t.Errorf("Derive(%q, %v) = 0", k.s, k.i)
		}
		if prev, dup := seen[v]; dup {
			t.Errorf("Derive(%q, %v) repeats %s", k.s, k.i, prev)
		}
		seen[v] = k.s
		if w.Derive(k.s, k.i...) != v {
			t.Errorf("Derive(%q, %v) is not a function", k.s, k.i)
		}
	}
	if (World{Seed: 2}).Derive("content") == w.Derive("content") {
		t.Error("the seed does not change Derive")
	}
}
