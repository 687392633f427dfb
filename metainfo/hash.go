package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"fmt"
)

// HashSize is the length of a v1 info hash and of each v1 piece hash (SHA-1).
const HashSize = 20

// Hash is a v1 info hash: the SHA-1 of the bencoded info dictionary.
type Hash [HashSize]byte

// HexString returns the hash as 40 lowercase hex digits, the form trackers,
// magnet links and other clients print.
func (h Hash) HexString() string { return hex.EncodeToString(h[:]) }

// String is HexString.
func (h Hash) String() string { return h.HexString() }

// Base32String returns the hash as 32 base32 characters (RFC 4648, upper
// case, no padding), the older magnet-link form.
func (h Hash) Base32String() string { return base32.StdEncoding.EncodeToString(h[:]) }

// ParseHash reads an info hash written as 40 hex digits or 32 base32
// characters (either case).
func ParseHash(s string) (Hash, error) {
	var h Hash
	switch len(s) {
	case 2 * HashSize:
		if _, err := hex.Decode(h[:], []byte(s)); err != nil {
			return Hash{}, fmt.Errorf("info hash %q: not hex: %w", s, err)
		}
	case 32:
		b, err := base32.StdEncoding.DecodeString(upperASCII(s))
		if err != nil || len(b) != HashSize {
			return Hash{}, fmt.Errorf("info hash %q: not base32", s)
		}
		copy(h[:], b)
	default:
		return Hash{}, fmt.Errorf("info hash %q: want 40 hex or 32 base32 characters, got %d", s, len(s))
	}
	return h, nil
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
