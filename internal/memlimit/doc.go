// Package memlimit gives a process a soft memory limit below what the
// machine (or its cgroup) has, so that Go's garbage collector works
// harder as the heap nears the edge instead of the kernel killing the
// process.
//
// A simulated world's peak resident memory is well above its live heap:
// the collector lets the heap grow past what was live at its last run,
// and pieces under way and connections come and go, leaving free space
// in the heap that stays resident (bigswarm at 10,000 leechers: 568 MiB
// of objects in a peak of 769 MiB, at 1352794). A world whose live heap
// fits the machine can therefore still be killed at its peak; under a
// soft limit it runs to completion, more slowly. Where the limit is far
// above the heap it changes nothing.
//
// TightenGC lowers the collector's target (GOGC) for the same worlds: they
// allocate slowly for their size, so a low target costs little CPU and
// keeps the peak nearer the live heap (SimGCPercent says how much).
//
// Like internal/hugepages, it is a decision for a command to take for
// its whole process, not for a library. A GOMEMLIMIT or GOGC in the
// environment is the user's decision and is left alone.
package memlimit
