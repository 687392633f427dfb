// Package sim is the discrete-event driver of the engine: the same
// engine.Torrent, pickers and chokers as the live client, on a virtual
// clock, so that swarms of tens of thousands of peers run on one machine
// and every run is reproducible to the bit.
//
// Time advances from event to event in a heap ordered by (time, sequence
// number); there are no goroutines and no wall clock, and all randomness
// comes from the scenario's seed. Links follow a simple queueing model:
// a peer's uplink sends one message at a time at its upload capacity,
// taking its connections in round-robin order so that concurrent
// transfers share it fairly; a message then crosses the pair's latency and
// waits in the receiver's downlink, a FIFO served at its download
// capacity. Messages have their real wire sizes, but no data: a block is
// a length. Announces go to the real tracker store, in-process, at the
// virtual time.
package sim
