// Package choker holds choking strategies: which peers we upload to.
//
// A Choker is called every Interval with a View: the connected peers with
// their interest, current choke state and measured rates, the time and a
// seeded random source. It answers with the peers to unchoke (all others
// are choked) and, optionally, the upload rate each should get.
// Like pickers, chokers never see sockets or clocks, so the same strategy
// runs in the live client, the lab and the simulator; a Choker may keep
// state between rounds (the optimistic unchoke, BitTyrant's estimates),
// but only as a function of the Views it was given.
package choker
