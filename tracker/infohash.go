package tracker

import (
	"encoding/binary"
	"math/bits"

	"github.com/swarmlab/swarmlab/metainfo"
)

// HashInfoHash mixes an info hash under a secret key (k0, k1) into a
// table index, with two rounds of wyhash's multiply-fold. The store's
// swarm table and the server's whitelist both place info hashes by it:
// clients choose the hashes, and a keyed mix keeps them from piling a
// table's entries into one probe chain.
func HashInfoHash(h *metainfo.Hash, k0, k1 uint64) uint64 {
	a := binary.LittleEndian.Uint64(h[0:8])
	b := binary.LittleEndian.Uint64(h[8:16])
	c := uint64(binary.LittleEndian.Uint32(h[16:20]))
	hi, lo := bits.Mul64(a^k0, b^k1)
	hi, lo = bits.Mul64(hi^lo^k1, c^0x9e3779b97f4a7c15)
	return hi ^ lo
}
