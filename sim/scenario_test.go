package sim

import (
	"testing"

	"github.com/swarmlab/swarmlab/lab/scenario"
)

// TestBuiltinScenariosInSim: every world of the built-in default, gossip
// and churn scenarios runs in the simulator, every leecher present at the
// end completes, and the byte accounts balance (Verified).
func TestBuiltinScenariosInSim(t *testing.T) {
	for _, name := range []string{"default", "gossip", "churn"} {
		s, err := scenario.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range s.Worlds {
			run, err := RunWorld(w)
			if err != nil {
				t.Fatalf("%s: %v", w.Name(), err)
			}
			if run.Mode != "sim" || !run.Verified || run.Scenario != w.Name() {
				t.Errorf("%s: mode %q verified %v scenario %q", w.Name(), run.Mode, run.Verified, run.Scenario)
			}
			if len(completions(run)) == 0 {
				t.Errorf("%s: nobody completed", w.Name())
			}
		}
	}
}

// TestFromWorldKeepsArrivalOrder: peers are laid out as the scenario
// schedules them, with their groups' capacities and strategies.
func TestFromWorldKeepsArrivalOrder(t *testing.T) {
	s, err := scenario.Open("default")
	if err != nil {
		t.Fatal(err)
	}
	w := s.Worlds[0]
	cfg := FromWorld(w)
	sched := w.Schedule()
	if len(cfg.Peers) != len(sched) || len(cfg.Peers) != w.Peers() {
		t.Fatalf("%d peers for %d scheduled", len(cfg.Peers), len(sched))
	}
	for i, j := range sched {
		g := w.Groups[j.Group]
		p := cfg.Peers[i]
		if p.JoinAt != j.At || p.Group != g.Name || p.Up != float64(g.UpOf(j.Index)) || p.Picker != g.Picker {
			t.Fatalf("peer %d: %+v, scheduled %+v of group %s", i, p, j, g.Name)
		}
	}
}
