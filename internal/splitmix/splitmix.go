package splitmix

// Mix advances state z by the golden-ratio increment γ and returns the
// finalised output: Mix(s), Mix(s+γ), Mix(s+2γ), ... is the SplitMix64
// sequence seeded with s.
func Mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
