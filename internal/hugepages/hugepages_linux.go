package hugepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// hugePage is the size of an x86-64 and arm64 transparent huge page; a
// mapping smaller than it cannot hold one.
const hugePage = 2 << 20

// Advise marks and collapses the heap now and then every interval until
// the returned function is called.
func Advise(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			adviseOnce()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// adviseOnce marks every anonymous private writable mapping of at least a
// huge page, and collapses it. Errors are ignored: the advice is best
// effort (MADV_COLLAPSE fails with EAGAIN when memory is short, and with
// EINVAL on kernels without it).
func adviseOnce() {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := anonymousWritable(sc.Text())
		if !ok || end-start < hugePage {
			continue
		}
		madvise(start, end-start, unix.MADV_HUGEPAGE)
		madvise(start, end-start, unix.MADV_COLLAPSE)
	}
}

// madvise is the raw system call: the ranges are addresses read from
// /proc, not Go memory, so there is no slice to hand unix.Madvise.
func madvise(addr, n uintptr, advice int) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, uintptr(advice))
}

// anonymousWritable parses a /proc/self/maps line and returns its range
// if it is an anonymous private read-write mapping: "start-end rw-p
// offset dev inode" with no path (the Go heap and its metadata; stacks
// and named mappings have a path or a [tag]).
func anonymousWritable(line string) (start, end uintptr, ok bool) {
	fields := strings.Fields(line)
	if len(fields) != 5 || fields[1] != "rw-p" || fields[4] != "0" {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(fields[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
