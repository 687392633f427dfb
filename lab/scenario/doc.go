// Package scenario reads lab scenarios: YAML files that describe worlds
// of peers to run and compare. Parse checks a file completely and reports
// every mistake with its line and the field's path; what it returns is
// fully resolved (defaults filled, variants applied), so a driver never
// re-interprets the file. The built-in scenarios are embedded YAML files,
// read through the same parser as any other.
//
// The schema, with defaults:
//
//	name: flashcrowd              # required; names output directories
//	description: text
//	mode: emulated                # emulated | sim (the simulator: up to 1,000,000 peers)
//	seed: 1                       # seeds content, arrivals and every peer
//	content:
//	  size: 4MiB                  # required; B, KiB, MiB, GiB (binary)
//	  piece_length: 32KiB         # default: metainfo.AutoPieceLength(size)
//	tracker:
//	  interval: 5s                # announce interval (whole seconds)
//	  peer_ttl: 10s               # default 2 × interval
//	  numwant: 50                 # peers per announce, 1-200
//	sim:                          # read by the simulator only
//	  latency: 25ms               # one-way delay of every link
//	  redundant_have: true        # false: announce a piece only to peers that lack it
//	  progress_every: 1           # record a peer's progress every N pieces
//	limits:
//	  max_duration: 5m            # the world stops then, finished or not
//	  max_conns: 80               # connections per peer
//	groups:                       # at least one seed group and one leecher group
//	  - name: leechers            # required, unique
//	    count: 100                # required, ≥ 1
//	    initial: leecher          # leecher | seed
//	    up: 512KiB/s              # bytes/s ("/s" optional); 0 or unlimited;
//	    down: [1MiB/s, 2MiB/s]    #   a list is dealt out to the peers in turn
//	    picker: rarest            # any name picker.New knows
//	    choker: tft               # any name choker.New knows
//	    gossip: {mode: push, fanout: 3, interval: 1s}   # or "gossip: pull"
//	    super_seed: true     # seeds reveal pieces a few at a time (BEP 16)
//	    arrival: {kind: flash, at: 0s}                  # all at once at `at`, or
//	    # arrival: {kind: poisson, rate: 2/s, at: 5s}   # a seeded Poisson process
//	    after_completion: {seed: forever, then: leave}  # seed: duration | forever;
//	                                                    # then: leave | restart
//	variants:                     # optional: run the world once per variant
//	  - name: random
//	    set: {picker: random}     # patch every group
//	    groups: {seed: {up: 1MiB/s}}   # patch one group
//	    tracker: {numwant: 10}    # also content and limits
//
// after_completion: a peer seeds for `seed` once it completes (an initial
// seed: once it joins), then leaves, or with then: restart leaves and
// joins again at once as a new, empty leecher — seed 002's reincarnating
// world — until max_duration. A restarted peer is a new entry in the
// run's peer list with its Incarnation counted up.
//
// Variants run as separate worlds compared side by side: the clean way to
// compare strategies, since each meets only itself. A question about how
// strategies fare against each other is one world with a group per
// strategy (the incentives built-in).
package scenario
