package hugepages

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAnonymousWritable(t *testing.T) {
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", 0xc000000000, 0xc004000000, true},
		{"7f1c2a000000-7f1c2a400000 rw-p 00000000 00:00 0", 0x7f1c2a000000, 0x7f1c2a400000, true},
		{"c004000000-c008000000 ---p 00000000 00:00 0", 0, 0, false},                                      // reserved, not mapped
		{"7ffd1b2e0000-7ffd1b301000 rw-p 00000000 00:00 0                          [stack]", 0, 0, false}, // named
		{"55d0c8a00000-55d0c8a21000 rw-p 0001f000 fd:01 1312 /usr/bin/x", 0, 0, false},                    // a file
		{"garbage", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, ok := anonymousWritable(tt.line)
		if s != tt.start || e != tt.end || ok != tt.ok {
			t.Errorf("%q: %#x-%#x %v, want %#x-%#x %v", tt.line, s, e, ok, tt.start, tt.end, tt.ok)
		}
	}
}

// TestAdviseGivesHugePages fills a large heap allocation and checks that
// after one round of advice the kernel backs part of the process with huge
// pages. It is skipped where the kernel gives none to anyone.
func TestAdviseGivesHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skip("transparent huge pages are off or absent here")
	}
	before := anonHuge(t)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	stop := Advise(time.Hour) // one round, at once
	stop()
	after := anonHuge(t)
	runtime.KeepAlive(buf)
	if after <= before {
		t.Fatalf("AnonHugePages %d kB before, %d kB after advising a 64 MiB heap", before, after)
	}
}

func anonHuge(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "AnonHugePages:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no AnonHugePages line")
	return 0
}
