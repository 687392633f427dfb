// Command benchtable reads `go test -bench -benchmem` output on stdin and
// prints, for every benchmark case, each library's figures side by side
// with swarmlab's and the ratio ours/reference.
//
// Benchmark names must end in the library: Op/fixture/kind/library, as in
// bench/bencode. With -count N the median of the N runs is used, which
// resists the odd slow run better than the mean on a shared 2-core machine.
//
// Usage: go test -run '^$' -bench . -benchmem -count 5 ./bencode | go run ./cmd/benchtable
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
)

// sample is one benchmark result line.
type sample struct {
	ns, bytes, allocs float64
}

// gomaxprocs is the "-N" suffix go test adds to benchmark names.
var gomaxprocs = regexp.MustCompile(`-\d+$`)

func main() {
	ours := flag.String("ours", "swarmlab", "the library the others are compared with")
	flag.Parse()
	cases, libs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(cases) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark lines on stdin")
		os.Exit(1)
	}
	print(os.Stdout, cases, libs, *ours)
}

// results maps case -> library -> samples.
type results map[string]map[string][]sample

// parse reads benchmark lines, passing everything else through to stderr so
// a failure in the benchmark run stays visible.
func parse(r io.Reader) (results, []string, error) {
	res := results{}
	var libs []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			fmt.Fprintln(os.Stderr, line)
			continue
		}
		name := gomaxprocs.ReplaceAllString(f[0], "")
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			continue
		}
		c, lib := strings.TrimPrefix(name[:i], "Benchmark"), name[i+1:]
		var s sample
		// After the name and iteration count come "value unit" pairs.
		for j := 2; j+1 < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%q: %v", line, err)
			}
			switch f[j+1] {
			case "ns/op":
				s.ns = v
			case "B/op":
				s.bytes = v
			case "allocs/op":
				s.allocs = v
			}
		}
		if res[c] == nil {
			res[c] = map[string][]sample{}
		}
		res[c][lib] = append(res[c][lib], s)
		if !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
	}
	return res, libs, sc.Err()
}

// summary is the median of each measure over a library's samples.
func summary(ss []sample) sample {
	var ns, b, a []float64
	for _, s := range ss {
		ns, b, a = append(ns, s.ns), append(b, s.bytes), append(a, s.allocs)
	}
	return sample{benchkit.Median(ns), benchkit.Median(b), benchkit.Median(a)}
}

func ratio(a, b float64) string {
	if b == 0 {
		if a == 0 {
			return "1"
		}
		return "inf"
	}
	return fmt.Sprintf("%.3g", a/b)
}

func print(w io.Writer, res results, libs []string, ours string) {
	var names []string
	for c := range res {
		names = append(names, c)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tlibrary\tns/op\tB/op\tallocs/op\tours/ref time\tours/ref allocs\t")
	for _, c := range names {
		mine, ok := res[c][ours]
		var o sample
		if ok {
			o = summary(mine)
		}
		for _, lib := range libs {
			ss, ok := res[c][lib]
			if !ok {
				continue
			}
			s := summary(ss)
			rt, ra := "", ""
			if lib != ours && o.ns > 0 {
				rt, ra = ratio(o.ns, s.ns), ratio(o.allocs, s.allocs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\t\n", c, lib, s.ns, s.bytes, s.allocs, rt, ra)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "ours/ref below 1 means %s takes less time (or fewer allocations) than that reference.\n", ours)
}
