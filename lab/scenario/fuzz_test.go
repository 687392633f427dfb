package scenario

import (
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts is a world a driver can run as it stands.
func FuzzParse(f *testing.F) {
	for _, name := range Builtins() {
		src, _ := BuiltinSource(name)
		f.Add(src)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(withVariants))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if len(s.Worlds) == 0 {
			t.Fatal("accepted a scenario with no worlds")
		}
		for _, w := range s.Worlds {
			c := w.Content
			if c.Size <= 0 || c.PieceLength <= 0 || c.PieceLength&(c.PieceLength-1) != 0 || c.Pieces() < 1 {
				t.Fatalf("%s: content %+v", w.Name(), c)
			}
			if w.Tracker.Interval <= 0 || w.Tracker.PeerTTL < w.Tracker.Interval || w.Tracker.NumWant < 1 ||
				w.Limits.MaxDuration <= 0 || w.Limits.MaxConns < 1 {
				t.Fatalf("%s: tracker %+v limits %+v", w.Name(), w.Tracker, w.Limits)
			}
			if len(w.Groups) == 0 || w.Peers() > w.MaxPeers() {
				t.Fatalf("%s: %d groups, %d peers", w.Name(), len(w.Groups), w.Peers())
			}
			for _, g := range w.Groups {
				if g.Count < 1 || len(g.Up) == 0 || len(g.Down) == 0 || g.UpOf(g.Count) < 0 ||
					(g.Arrival.Kind == Poisson && g.Arrival.Rate <= 0) || g.Arrival.At >= w.Limits.MaxDuration {
					t.Fatalf("%s: group %+v", w.Name(), g)
				}
			}
			w.Schedule()
		}
	})
}
