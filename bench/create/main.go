// Command create measures `swarmlab create` hashing throughput against
// mktorrent on one large file, next to the SHA-1 ceilings of this machine.
//
// It generates the file once from a seeded PRNG (cached between runs),
// reads it through so both tools hash from the page cache, then times each
// tool several times per piece size, alternating them so drift in machine
// load hits both alike. Both torrents' piece hashes must be identical, which
// shows the tools did the same work. Creating a torrent is SHA-1 over the
// content, so the in-process figures printed first (one core, and all
// cores) are the ceilings: crypto/sha1 hashing one piece at a time, as
// mktorrent does, and, on processors with AVX-512, internal/mbsha1
// hashing sixteen side by side, as swarmlab create does there.
//
// Usage (from bench/): go run ./create [-size BYTES] [-pieces 262144,1048576] [-runs 5]
package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
	"github.com/swarmlab/swarmlab/bencode"
	"github.com/swarmlab/swarmlab/internal/mbsha1"
)

// seed fixes the content of the generated file.
const seed = 20240601

func main() {
	size := flag.Int64("size", 1<<30, "size of the file to hash, bytes")
	pieceList := flag.String("pieces", "262144,1048576", "comma-separated piece lengths (powers of two)")
	runs := flag.Int("runs", 5, "timed runs per tool and piece length")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "swarmlab-bench-create"), "directory for the generated file")
	threads := flag.Int("mktorrent-threads", runtime.NumCPU(), "mktorrent -t value")
	var bin string
	benchkit.SwarmlabFlag(&bin)
	flag.Parse()
	if err := run(*size, *pieceList, *runs, *cache, *threads, bin); err != nil {
		fmt.Fprintln(os.Stderr, "create bench:", err)
		os.Exit(1)
	}
}

func run(size int64, pieceList string, runs int, cache string, threads int, bin string) error {
	var pieces []int64
	for _, s := range strings.Split(pieceList, ",") {
		p, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || p <= 0 || bits.OnesCount64(uint64(p)) != 1 {
			return fmt.Errorf("piece length %q is not a power of two", s)
		}
		pieces = append(pieces, p)
	}
	mk, err := exec.LookPath("mktorrent")
	if err != nil {
		return errors.New("mktorrent not found (apt-get install mktorrent)")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	if bin, err = benchkit.Swarmlab(bin, cache); err != nil {
		return err
	}

	fmt.Printf("machine: %d CPUs, GOMAXPROCS %d, %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	one, all := sha1Ceiling(1, func(b []byte) { sha1.Sum(b) })
	fmt.Printf("SHA-1 ceiling, one piece at a time (Go crypto/sha1, 256 KiB in cache): %.0f MB/s on one core, %.0f MB/s on %d cores\n",
		one, all, runtime.GOMAXPROCS(0))
	if mbsha1.Multi() {
		sums := make([][mbsha1.Size]byte, mbsha1.Lanes)
		mone, mall := sha1Ceiling(mbsha1.Lanes, func(b []byte) {
			msgs := make([]mbsha1.Message, mbsha1.Lanes)
			for i := range msgs {
				msgs[i] = mbsha1.Message{b[i*pieceBytes : (i+1)*pieceBytes]}
			}
			mbsha1.Sum(sums, msgs)
		})
		fmt.Printf("SHA-1 ceiling, %d pieces side by side (internal/mbsha1, 256 KiB each): %.0f MB/s on one core, %.0f MB/s on %d cores\n",
			mbsha1.Lanes, mone, mall, runtime.GOMAXPROCS(0))
	}

	data, err := benchkit.EnsureData(cache, seed, size)
	if err != nil {
		return err
	}
	// Two passes: the first may come from disk, the second shows the page
	// cache speed both tools will see.
	for pass := 1; pass <= 2; pass++ {
		rate, err := readThrough(data)
		if err != nil {
			return err
		}
		fmt.Printf("read %s pass %d: %.0f MB/s\n", filepath.Base(data), pass, rate)
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	// Wall-clock MB/s is what a user sees but swings with machine load;
	// MB per CPU-second is steadier and shows how close each tool gets to
	// the SHA-1 ceiling per core (the last column: crypto/sha1's).
	fmt.Fprintln(tw, "\npiece\ttool\tmedian MB/s\tmin\tmax\tCPU s/run\tMB/CPU-s\tvs crypto/sha1 one core\t")
	for _, pl := range pieces {
		ours := filepath.Join(cache, "swarmlab.torrent")
		theirs := filepath.Join(cache, "mktorrent.torrent")
		var oursT, theirsT []measure
		for r := 0; r < runs; r++ {
			os.Remove(ours)
			m, err := timeCmd(bin, "create", "-o", ours, "-t", "http://127.0.0.1:1/announce",
				"--piece-size", strconv.FormatInt(pl, 10), "--force", data)
			if err != nil {
				return err
			}
			oursT = append(oursT, m)
			// mktorrent refuses to overwrite its output.
			os.Remove(theirs)
			m, err = timeCmd(mk, "-a", "http://127.0.0.1:1/announce", "-l", strconv.Itoa(bits.TrailingZeros64(uint64(pl))),
				"-t", strconv.Itoa(threads), "-o", theirs, data)
			if err != nil {
				return err
			}
			theirsT = append(theirsT, m)
		}
		if err := samePieces(ours, theirs); err != nil {
			return fmt.Errorf("piece length %d: %w", pl, err)
		}
		ow, oc := row(tw, pl, "swarmlab", size, oursT, one)
		tw2, tc := row(tw, pl, fmt.Sprintf("mktorrent -t %d", threads), size, theirsT, one)
		fmt.Fprintf(tw, "%d\tswarmlab/mktorrent\t%.2f\t\t\t\t%.2f\t\t\n", pl, ow/tw2, oc/tc)
	}
	return tw.Flush()
}

// pieceBytes is the piece the ceilings hash.
const pieceBytes = 256 << 10

// sha1Ceiling returns the MB/s of hash, given pieces 256 KiB pieces at a
// time, on one goroutine and on GOMAXPROCS goroutines. Each is the best of
// three short trials: the ceiling is what the CPU can do, and on a shared
// machine the best trial is the one least disturbed by other work.
//
// The buffer is random bytes, which stay in cache (one piece in L2, sixteen
// in L3), as a piece does between being read into a buffer and hashed. It
// must be written: an untouched make([]byte) maps every page to the
// kernel's one zero page and measures an unrealistically hot cache. A
// buffer much larger than the caches measures memory bandwidth instead,
// which here is lower than SHA-1's speed.
func sha1Ceiling(pieces int, hash func([]byte)) (one, all float64) {
	buf := make([]byte, pieces*pieceBytes)
	rand.NewChaCha8([32]byte{1}).Read(buf)
	trial := func(workers int) float64 {
		var wg sync.WaitGroup
		total := make([]int64, workers)
		start := time.Now()
		for w := range workers {
			wg.Go(func() {
				for time.Since(start) < 400*time.Millisecond {
					hash(buf)
					total[w] += int64(len(buf))
				}
			})
		}
		wg.Wait()
		var n int64
		for _, t := range total {
			n += t
		}
		return float64(n) / time.Since(start).Seconds() / 1e6
	}
	for range 3 {
		one = max(one, trial(1))
		all = max(all, trial(runtime.GOMAXPROCS(0)))
	}
	return one, all
}

// readThrough reads the whole file and returns MB/s.
func readThrough(p string) (float64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	n, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds() / 1e6, nil
}

// measure is one timed run of a tool.
type measure struct {
	wall, cpu time.Duration
}

func timeCmd(name string, args ...string) (measure, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measure{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.Bytes())
	}
	ps := cmd.ProcessState
	return measure{wall: wall, cpu: ps.UserTime() + ps.SystemTime()}, nil
}

// row prints one tool's line and returns its median wall-clock MB/s and
// median MB per CPU-second.
func row(w io.Writer, pl int64, tool string, size int64, ms []measure, sha1One float64) (wall, perCPU float64) {
	var rates, cpus []float64
	for _, m := range ms {
		rates = append(rates, float64(size)/m.wall.Seconds()/1e6)
		cpus = append(cpus, m.cpu.Seconds())
	}
	wall, cpu := benchkit.Median(rates), benchkit.Median(cpus)
	perCPU = float64(size) / cpu / 1e6
	fmt.Fprintf(w, "%d\t%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.0f\t%.2f\t\n", pl, tool, wall, slices.Min(rates), slices.Max(rates),
		cpu, perCPU, perCPU/sha1One)
	return wall, perCPU
}

// samePieces checks that two torrents carry identical piece hashes.
func samePieces(a, b string) error {
	pa, err := readPieces(a)
	if err != nil {
		return err
	}
	pb, err := readPieces(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(pa, pb) {
		return fmt.Errorf("piece hashes differ between %s and %s", a, b)
	}
	return nil
}

func readPieces(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var t struct {
		Info struct {
			Pieces []byte `bencode:"pieces"`
		} `bencode:"info"`
	}
	if err := bencode.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(t.Info.Pieces) == 0 || len(t.Info.Pieces)%sha1.Size != 0 {
		return nil, fmt.Errorf("%s: %d bytes of piece hashes", p, len(t.Info.Pieces))
	}
	return t.Info.Pieces, nil
}
