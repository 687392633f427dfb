package sim

import (
	"testing"

	"github.com/swarmlab/swarmlab/lab"
)

// TestLargeWorldOptions: the options a large world uses to stay cheap
// change what is recorded and sent, not who finishes. Skipping redundant
// HAVEs must cut the messages by a quarter or more (in this world of
// 4-block pieces and ~40 neighbours HAVEs are about two thirds of them,
// and half go; 0.69 was measured), and coarse progress records one Piece
// event per step.
func TestLargeWorldOptions(t *testing.T) {
	base := flashCrowd(40, "rarest", 1<<20, 256<<10, 0)
	_, full, err := Run(base)
	if err != nil {
		t.Fatal(err)
	}
	lean := base
	lean.SkipRedundantHave = true
	lean.ProgressEvery = 25
	run, st, err := Run(lean)
	if err != nil {
		t.Fatal(err)
	}
	if done := completions(run); len(done) != 40 || !run.Verified {
		t.Fatalf("%d of 40 completed, verified %v", len(done), run.Verified)
	}
	if st.Messages*4 > full.Messages*3 {
		t.Errorf("%d messages without redundant HAVEs, %d with: want at most three quarters", st.Messages, full.Messages)
	}
	pieces := map[int][]int{}
	for _, e := range run.Events {
		if e.Kind == lab.Piece {
			pieces[e.Peer] = append(pieces[e.Peer], e.Have)
		}
	}
	for id := 1; id <= 40; id++ {
		if got := pieces[id]; len(got) != 4 || got[0] != 25 || got[3] != 100 {
			t.Errorf("peer %d: progress recorded at %v, want 25, 50, 75, 100", id, got)
		}
	}
}
