// Package bencode benchmarks swarmlab's bencode package against reference
// implementations: github.com/anacrolix/torrent/bencode,
// github.com/zeebo/bencode and github.com/jackpal/bencode-go.
//
// It lives in the separate bench module so that the references are never
// dependencies of the product. Two fixtures are used: the info dictionary of
// a 50,000-piece multi-file torrent (about 1 MB, nearly all of it the
// pieces string) and a compact tracker announce response. Each is decoded
// into an equivalent typed struct and into a generic value, and encoded
// from both.
//
// TestEquivalence checks first that every library decodes each fixture to
// the same value and encodes it to the same bytes, so the benchmarks compare
// equal work. The fixtures' bytes are written by hand (fixtures_test.go),
// not by any library under test.
//
// Run: go test -run '^$' -bench . -benchmem ./bencode | go run ./cmd/benchtable
// (or bench/bencode.sh from the repository root).
package bencode
