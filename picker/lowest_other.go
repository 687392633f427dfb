//go:build !amd64

package picker

const simdLowest = false

func lowestAVX512(*uint16, *uint64, int) uint16 {
	panic("picker: no AVX-512 kernel on this architecture")
}

func tiesAVX512(*uint16, *uint64, *uint64, int, uint16) {
	panic("picker: no AVX-512 kernel on this architecture")
}
