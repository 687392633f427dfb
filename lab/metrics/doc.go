// Package metrics computes the lab's measures from a lab.Run.
//
// Everything here is a pure function of the Run record, so an emulated
// world and the simulator are measured by the same code, and a results
// file can be re-measured later from its raw "run" field. Compute returns
// a Summary with:
//
//   - per group and overall: completion times (join → completed, and the
//     absolute time) with their distribution, completed/total, the last
//     completion, bytes, wasted bytes and useless gossip transfers, share
//     ratios, download rates and Jain's fairness index;
//   - the two measures of seed 000 as step series: peers completed over
//     time and bytes downloaded over time, overall and per group;
//   - per-peer progress curves (fraction of pieces held over time, seed 001);
//   - the fluid lower bound on the distribution time of a flash crowd,
//     T_min = max(F/u_s, F/d_min, N·F/(u_s+Σu_i)) (Kumar & Ross 2006), and
//     the run's makespan ÷ T_min;
//   - for incentive worlds (leechers with different chokers): each group's
//     mean download rate, its speed-up over the honest tit-for-tat
//     baseline, and what free riders get (seed 003).
//
// Times are float64 seconds since the start of the run; rates are bytes
// per second. A quantity that is undefined for a run (no completions, no
// bytes downloaded, a bound that does not apply) is a nil pointer, which
// JSON encodes as null, never a made-up zero.
package metrics
