// Package splitmix is SplitMix64's output function (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
// one call turns any 64-bit value into a well-mixed one. The project uses
// it to derive independent seeds from one (store shards, scenario
// streams, load-generator peers).
package splitmix
