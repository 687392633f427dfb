package memlimit

import (
	"runtime/debug"
	"slices"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want int64
		ok   bool
	}{
		{"usual", "MemTotal:       24684084 kB\nMemFree:         1000 kB\n", 24684084 << 10, true},
		{"not first", "MemFree: 1 kB\nMemTotal: 2048 kB\n", 2048 << 10, true},
		{"missing", "MemFree: 1 kB\n", 0, false},
		{"no unit", "MemTotal: 2048\n", 0, false},
		{"other unit", "MemTotal: 2 MB\n", 0, false},
		{"garbage", "MemTotal: lots kB\n", 0, false},
		{"zero", "MemTotal: 0 kB\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseMemTotal([]byte(tc.text))
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseMemTotal(%q) = %d, %v; want %d, %v", tc.text, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"max\n", 0, false},                 // v2, no limit
		{"9223372036854771712\n", 0, false}, // v1, no limit
		{"8589934592\n", 8 << 30, true},     // 8 GiB
		{"536870912", 512 << 20, true},      // no newline
		{"", 0, false},
		{"-1\n", 0, false},
	} {
		got, ok := parseCgroupLimit([]byte(tc.text))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCgroupLimit(%q) = %d, %v; want %d, %v", tc.text, got, ok, tc.want, tc.ok)
		}
	}
}

func TestApplyLeavesGOMEMLIMITAlone(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	before := debug.SetMemoryLimit(-1)
	limit, restore := Apply(0.5)
	defer restore()
	if limit != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("Apply set a limit of %d with GOMEMLIMIT set", limit)
	}
}

func TestApplySetsAndRestores(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	want := Limit(0.5)
	if want <= 0 {
		t.Skip("no memory size readable here")
	}
	before := debug.SetMemoryLimit(-1)
	limit, restore := Apply(0.5)
	if limit != want || debug.SetMemoryLimit(-1) != want {
		t.Errorf("Apply(0.5) = %d, runtime limit %d; want %d", limit, debug.SetMemoryLimit(-1), want)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after restore the limit is %d, want %d", got, before)
	}
}

func TestLimitFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"v2 in its own namespace", "0::/\n", []string{"memory.max"}},
		{"v2 nested", "0::/user.slice/run-1.scope\n", []string{
			"user.slice/run-1.scope/memory.max", "user.slice/memory.max", "memory.max"}},
		{"v1", "9:name=systemd:/\n5:cpu,cpuacct:/x\n4:memory:/swltest\n1:pids:/\n", []string{
			"memory/swltest/memory.limit_in_bytes", "memory/memory.limit_in_bytes"}},
		{"v1 memory among others", "3:blkio,memory:/a\n", []string{
			"memory/a/memory.limit_in_bytes", "memory/memory.limit_in_bytes"}},
		{"nothing about memory", "2:cpu:/\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := limitFiles([]byte(tc.text)); !slices.Equal(got, tc.want) {
				t.Errorf("limitFiles(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestTightenGCLeavesGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "200")
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	set, restore := TightenGC(25)
	defer restore()
	if got := debug.SetGCPercent(before); set != 0 || got != before {
		t.Errorf("TightenGC set %d (runtime %d) with GOGC set; want it left at %d", set, got, before)
	}
}

func TestTightenGCSetsAndRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	set, restore := TightenGC(before + 7)
	got := debug.SetGCPercent(before + 7)
	if set != before+7 || got != before+7 {
		t.Errorf("TightenGC(%d) = %d, runtime %d", before+7, set, got)
	}
	restore()
	if got := debug.SetGCPercent(before); got != before {
		t.Errorf("after restore the target is %d, want %d", got, before)
	}
}
