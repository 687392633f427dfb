package benchkit

import (
	"bytes"
	"os"
	"testing"
)

// TestEnsureDataIsSeededAndCached: the same seed gives the same bytes,
// another seed other bytes, and a complete file is reused, not rewritten.
func TestEnsureDataIsSeededAndCached(t *testing.T) {
	dir := t.TempDir()
	p1, err := EnsureData(dir, 1, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(p1)
	if len(a) != 100_000 {
		t.Fatalf("%d bytes", len(a))
	}
	other, err := EnsureData(t.TempDir(), 1, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); !bytes.Equal(a, b) {
		t.Fatal("same seed, different bytes")
	}
	p2, _ := EnsureData(dir, 2, 100_000)
	if c, _ := os.ReadFile(p2); bytes.Equal(a, c) {
		t.Fatal("different seeds, same bytes")
	}
	fi, _ := os.Stat(p1)
	if err := os.Chtimes(p1, fi.ModTime().Add(-3600e9), fi.ModTime().Add(-3600e9)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p1)
	if _, err := EnsureData(dir, 1, 100_000); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(p1); !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("a complete file was written again")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	xs := []float64{3, 1, 2}
	Median(xs)
	if xs[0] != 3 || xs[1] != 1 {
		t.Errorf("Median reordered its argument: %v", xs)
	}
}

// TestProcStatusBytes reads this process's own status: its peak resident
// set is at least what is resident now, and both are above zero.
func TestProcStatusBytes(t *testing.T) {
	rss, err := ProcStatusBytes(os.Getpid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	hwm, err := ProcStatusBytes(os.Getpid(), "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("VmRSS %d, VmHWM %d", rss, hwm)
	}
	if _, err := ProcStatusBytes(os.Getpid(), "NoSuchField"); err == nil {
		t.Error("a missing field gave no error")
	}
}
