// Package lab runs strategy experiments and reports on them.
//
// A scenario (package lab/scenario) describes a world: content, a tracker,
// and groups of peers with their link capacities, strategies, arrival
// process and behaviour after completion. A driver runs it — the emulated
// world (lab/world: real swarmlab peers over loopback TCP) or, later, the
// simulator — and produces a Run: what every peer was, and a time-stamped
// record of what happened to it. Everything downstream (metrics, the fluid
// lower bound, results.json, CSV series, report.html) is computed from a
// Run alone, so both drivers are measured the same way.
package lab
