package memlimit

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Fraction is the share of the machine's memory the commands give a
// simulated world's heap: the rest is for the runtime's own memory, the
// kernel and whatever else runs.
const Fraction = 0.8

// Where the sizes are read from.
const (
	meminfoPath = "/proc/meminfo"
	cgroupPath  = "/proc/self/cgroup"
	cgroupRoot  = "/sys/fs/cgroup"
)

// Limit returns fraction of the memory the process may have: the smaller
// of the machine's (MemTotal) and the limits of its cgroup and the
// cgroup's ancestors, or 0 when none is known (not Linux, say).
func Limit(fraction float64) int64 {
	total := int64(0)
	if b, err := os.ReadFile(meminfoPath); err == nil {
		total, _ = parseMemTotal(b)
	}
	if b, err := os.ReadFile(cgroupPath); err == nil {
		for _, file := range limitFiles(b) {
			if b, err := os.ReadFile(filepath.Join(cgroupRoot, file)); err == nil {
				if n, ok := parseCgroupLimit(b); ok && (total == 0 || n < total) {
					total = n
				}
			}
		}
	}
	return int64(float64(total) * fraction)
}

// limitFiles lists, from /proc/self/cgroup's text, the memory limit files
// (below /sys/fs/cgroup) of the process's cgroup and its ancestors: a
// limit on any of them applies. Version 1 names the memory controller
// in its line; version 2 has one line, "0::PATH". Inside a container with
// its own cgroup namespace the path is "/", the container's.
func limitFiles(b []byte) []string {
	var files []string
	add := func(hierarchy, dir, name string) {
		for d := path.Clean("/" + dir); ; d = path.Dir(d) {
			files = append(files, strings.TrimPrefix(path.Join(hierarchy, d, name), "/"))
			if d == "/" {
				return
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			add("", f[2], "memory.max")
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			add("memory", f[2], "memory.limit_in_bytes")
		}
	}
	return files
}

// Apply sets the runtime's soft memory limit to Limit(fraction), unless
// GOMEMLIMIT is set or no limit is known, and returns the limit it set
// (0 for none) and a function that restores the previous one.
func Apply(fraction float64) (int64, func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, func() {}
	}
	limit := Limit(fraction)
	if limit <= 0 {
		return 0, func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	return limit, func() { debug.SetMemoryLimit(prev) }
}

// parseMemTotal reads MemTotal, in bytes, from /proc/meminfo's text.
func parseMemTotal(b []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 || kb > 1<<53 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// noLimit: cgroup v1 reports "no limit" as a huge number (the largest
// page-aligned int64), v2 as "max".
const noLimit = 1 << 62

// parseCgroupLimit reads a cgroup memory limit file; false for none.
func parseCgroupLimit(b []byte) (int64, bool) {
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= noLimit {
		return 0, false
	}
	return n, true
}

// SimGCPercent is the garbage collector's target (GOGC) the commands give
// a simulated world. A world allocates slowly for its size (bigswarm at
// 2,000 leechers, measured at 8f8f570: 827 MiB over a 30 s run whose live heap peaks near
// 110-125 MB, 18 collections at GOGC=100), so collecting more often costs
// little, while the default lets the heap grow to twice its live size. At
// 25, back to back at 2,000 leechers: peak RSS 142.6 → 95.7–96.8 KiB a
// peer, CPU 28.9 → 30.7–31.6 s, wall 28.2 → 28.8–29.6 s (the collector
// runs on the other core), 61 collections. At 10 the CPU rose to 36.1 s
// for 84.0 KiB.
const SimGCPercent = 25

// TightenGC sets the garbage collector's target to percent, unless GOGC
// is set, and returns the target it set (0 for none) and a function that
// restores the previous one.
func TightenGC(percent int) (int, func()) {
	if os.Getenv("GOGC") != "" {
		return 0, func() {}
	}
	prev := debug.SetGCPercent(percent)
	return percent, func() { debug.SetGCPercent(prev) }
}
