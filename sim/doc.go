// Package sim is the discrete-event driver of the engine: the same
// engine.Torrent, pickers and chokers as the live client, on a virtual
// clock, so that swarms of tens of thousands of peers run on one machine
// and every run is reproducible to the bit.
//
// Time advances from event to event in a heap ordered by (time, sequence
// number); there are no goroutines and no wall clock, and all randomness
// comes from the scenario's seed. A rate cap is a token bucket, as in the
// live client that the emulated world runs: a peer's uplink releases one
// message at a time once its bucket holds the message's bytes, taking its
// connections in round-robin order so that concurrent transfers share it
// fairly; a message then crosses the link's latency and its receiver's
// downlink bucket releases it in arrival order. Control messages (HAVE,
// requests, choking) cross the latency only, and those one peer sends in
// one instant travel as one event. Messages have their real wire sizes,
// but no data: a block is a length. Announces go to the real tracker
// store, in-process, at the virtual time.
package sim
