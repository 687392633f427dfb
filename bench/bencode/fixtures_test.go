package bencode

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
)

// The typed targets. Every library under test reads the same `bencode:"..."`
// tags, so one set of types serves all of them and the typed benchmarks do
// identical work. Integers are int64 (not bool for "private") because not
// every reference decodes an integer into a bool.

type benchFile struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// byteString is how a typed target holds bencode byte strings: []byte,
// or string for jackpal/bencode-go, which leaves []byte fields empty
// without an error. Copying the bytes into a string costs the same as
// into a []byte, so the work stays equal.
type byteString interface{ []byte | string }

type benchInfo[B byteString] struct {
	Files       []benchFile `bencode:"files"`
	Name        string      `bencode:"name"`
	PieceLength int64       `bencode:"piece length"`
	Pieces      B           `bencode:"pieces"`
	Private     int64       `bencode:"private"`
}

type benchTracker[B byteString] struct {
	Complete    int64 `bencode:"complete"`
	Incomplete  int64 `bencode:"incomplete"`
	Interval    int64 `bencode:"interval"`
	MinInterval int64 `bencode:"min interval"`
	Peers       B     `bencode:"peers"`
	Peers6      B     `bencode:"peers6"`
}

// typedForm is a fixture's typed value and a way to make a fresh pointer
// of its type to decode into.
type typedForm struct {
	value any
	new   func() any
}

func typedOf[T any](v T) typedForm {
	return typedForm{value: v, new: func() any { return new(T) }}
}

// fixture is one document in the forms that must agree: its canonical
// bytes, the typed value (with byte strings as []byte, and as string) and
// the generic value (int64, string, []any, map[string]any, which is what
// every library decodes into `any`).
type fixture struct {
	name          string
	raw           []byte
	typed, typedS typedForm // a benchInfo or benchTracker of []byte; of string
	generic       any
}

const (
	infoPieces      = 50_000
	infoPieceLength = 256 << 10
)

var (
	fixturesOnce sync.Once
	allFixtures  []fixture
)

// fixtures returns the benchmark documents, built once from a fixed seed.
func fixtures() []fixture {
	fixturesOnce.Do(func() {
		rng := rand.New(rand.NewChaCha8([32]byte{'s', 'w', 'a', 'r', 'm', 'l', 'a', 'b'}))
		allFixtures = []fixture{infoFixture(rng), trackerFixture(rng)}
	})
	return allFixtures
}

// infoFixture is the info dictionary of a 50,000-piece, 256 KiB-piece
// torrent of a TV series: eight seasons of episodes with subtitles and .nfo
// files, extras, a sample and a few loose files, 304 files in all,
// whose lengths add up to just under 50,000 pieces.
func infoFixture(rng *rand.Rand) fixture {
	const show = "Some.Show.Name"
	type entry struct {
		path  []string
		video bool
		size  int64
	}
	var entries []entry
	for s := 1; s <= 8; s++ {
		season := fmt.Sprintf("Season %02d", s)
		for e := 1; e <= 12; e++ {
			base := fmt.Sprintf("%s.S%02dE%02d.1080p.WEB-DL.x264", show, s, e)
			entries = append(entries,
				entry{path: []string{season, base + ".mkv"}, video: true},
				entry{path: []string{season, "Subs", base + ".en.srt"}, size: 30_000 + rng.Int64N(40_000)},
				entry{path: []string{season, base + ".nfo"}, size: 1_000 + rng.Int64N(3_000)})
		}
	}
	for i := 1; i <= 12; i++ {
		entries = append(entries, entry{path: []string{"Extras", "Behind the Scenes", fmt.Sprintf("Part %02d.mkv", i)}, video: true})
	}
	entries = append(entries,
		entry{path: []string{"Sample", "sample.mkv"}, size: 48_000_000 + rng.Int64N(1_000_000)},
		entry{path: []string{"cover.jpg"}, size: 400_000 + rng.Int64N(100_000)},
		entry{path: []string{"README.txt"}, size: 2_345},
		entry{path: []string{"ünïcödé – notes.txt"}, size: 777})

	// Share what the small files leave among the videos with +-20% jitter,
	// the last video taking the remainder so the total is exact.
	total := int64(infoPieces)*infoPieceLength - 4321
	rest := total
	var weights []float64
	var sum float64
	for _, e := range entries {
		rest -= e.size
		if e.video {
			w := 0.8 + 0.4*rng.Float64()
			weights = append(weights, w)
			sum += w
		}
	}
	left, vi, last := rest, 0, -1
	for i := range entries {
		if entries[i].video {
			entries[i].size = int64(float64(rest) * weights[vi] / sum)
			left -= entries[i].size
			vi++
			last = i
		}
	}
	entries[last].size += left

	pieces := randBytes(rng, 20*infoPieces)
	name := show + ".Complete.Series.1080p"

	info := benchInfo[[]byte]{Name: name, PieceLength: infoPieceLength, Pieces: pieces, Private: 1}
	var files []any
	var w enc
	w.raw("d5:filesl")
	for _, e := range entries {
		info.Files = append(info.Files, benchFile{Length: e.size, Path: e.path})
		var path []any
		w.raw("d6:lengthi").int(e.size).raw("e4:pathl")
		for _, p := range e.path {
			path = append(path, p)
			w.str(p)
		}
		w.raw("ee")
		files = append(files, map[string]any{"length": e.size, "path": path})
	}
	w.raw("e4:name").str(name).raw("12:piece lengthi").int(infoPieceLength).raw("e6:pieces").str(string(pieces)).raw("7:privatei1ee")

	return fixture{
		name:  "info50k",
		raw:   w,
		typed: typedOf(info),
		typedS: typedOf(benchInfo[string]{Files: info.Files, Name: name, PieceLength: infoPieceLength,
			Pieces: string(pieces), Private: 1}),
		generic: map[string]any{
			"files":        files,
			"name":         name,
			"piece length": int64(infoPieceLength),
			"pieces":       string(pieces),
			"private":      int64(1),
		},
	}
}

// trackerFixture is a compact (BEP 23) announce response with 50 IPv4 peers
// and, as dual-stack trackers send (BEP 7), 10 IPv6 peers.
func trackerFixture(rng *rand.Rand) fixture {
	peers := randBytes(rng, 50*6)
	peers6 := randBytes(rng, 10*18)
	tr := benchTracker[[]byte]{Complete: 1234, Incomplete: 56, Interval: 1800, MinInterval: 900, Peers: peers, Peers6: peers6}
	var w enc
	w.raw("d8:completei").int(tr.Complete).
		raw("e10:incompletei").int(tr.Incomplete).
		raw("e8:intervali").int(tr.Interval).
		raw("e12:min intervali").int(tr.MinInterval).
		raw("e5:peers").str(string(peers)).
		raw("6:peers6").str(string(peers6)).
		raw("e")
	return fixture{
		name:  "tracker",
		raw:   w,
		typed: typedOf(tr),
		typedS: typedOf(benchTracker[string]{Complete: tr.Complete, Incomplete: tr.Incomplete, Interval: tr.Interval,
			MinInterval: tr.MinInterval, Peers: string(peers), Peers6: string(peers6)}),
		generic: map[string]any{
			"complete":     tr.Complete,
			"incomplete":   tr.Incomplete,
			"interval":     tr.Interval,
			"min interval": tr.MinInterval,
			"peers":        string(peers),
			"peers6":       string(peers6),
		},
	}
}

// randBytes returns n bytes from rng.
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// enc writes bencoding by hand, so the fixtures do not depend on any of the
// encoders being measured. Callers write dictionary keys in sorted order.
type enc []byte

func (w *enc) raw(s string) *enc { *w = append(*w, s...); return w }

func (w *enc) int(i int64) *enc { *w = strconv.AppendInt(*w, i, 10); return w }

func (w *enc) str(s string) *enc {
	*w = strconv.AppendInt(*w, int64(len(s)), 10)
	*w = append(*w, ':')
	*w = append(*w, s...)
	return w
}
