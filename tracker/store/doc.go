// Package store keeps a tracker's swarms: which peers announced which info
// hash, whether they seed, and when they were last heard from.
//
// Store is the interface the tracker server talks to. Memory is the default
// implementation, sharded by info hash so that announces for different
// swarms rarely share a lock; a Redis implementation lets several tracker
// instances share swarms. Package storetest is the conformance suite every
// implementation must pass.
//
// A store never reads a clock: every call that depends on time takes it as
// an argument, so expiry is tested by passing times, not by waiting. Its
// random choices come from a seedable source for the same reason.
package store
