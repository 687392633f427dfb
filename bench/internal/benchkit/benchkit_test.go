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
