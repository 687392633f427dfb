package picker

import (
	"slices"
	"strings"
	"testing"
)

// TestRarestManyAndFewCandidates runs rarest-first with a peer that offers
// many candidates and with one that offers few: both must find the rarest
// pieces and spread ties over every tied piece.
func TestRarestManyAndFewCandidates(t *testing.T) {
	const n = 200
	// Two other peers have every piece but 150 and 151, which only one
	// has: those two are the rarest, tied.
	full := strings.Repeat("1", n)
	rare := []byte(full)
	rare[150], rare[151] = '0', '0'
	others := []string{full, string(rare), string(rare)}
	none := strings.Repeat("0", n)

	// Few: we already have all but 8 pieces, 150 and 151 among them.
	few := []byte(full)
	for _, p := range []int{3, 40, 77, 150, 151, 160, 190, 199} {
		few[p] = '0'
	}
	tests := []struct {
		name string
		have string
	}{
		{"many candidates", none},
		{"few candidates", string(few)},
	}
	for _, tt := range tests {
		f := fixture{have: tt.have, started: none, others: others}
		if got := picks(Rarest{}, f, full); !slices.Equal(got, []int{150, 151}) {
			t.Errorf("%s: picked %v, want the tied rarest 150 and 151", tt.name, got)
		}
	}

	// Nothing to start: everything the peer has we have or fetch.
	started := []byte(none)
	for i := range n {
		if few[i] == '0' {
			started[i] = '1'
		}
	}
	f := fixture{have: string(few), started: string(started), others: others}
	if got := picks(Rarest{}, f, full); !slices.Equal(got, []int{-1}) {
		t.Errorf("no candidates: picked %v", got)
	}
}
