// Package hugepages asks Linux to back the process's heap with 2 MiB
// transparent huge pages.
//
// A large simulated world keeps gigabytes of small engine states and
// touches them at random, one HAVE at a time; with 4 KiB pages most of
// those touches miss the TLB as well as the cache, and the page walk that
// follows misses too. Go's runtime leaves its heap to the kernel's default,
// which on most distributions is to give huge pages only to memory that
// asks for them (transparent_hugepage "madvise"). Advise asks: every
// interval it marks the process's large anonymous writable mappings
// MADV_HUGEPAGE and collapses what is already populated (MADV_COLLAPSE,
// Linux 6.1), since Go maps heap memory in small steps and touches it at
// once, before a later mark could apply.
//
// It is a decision for a command to take for its whole process (the lab
// does for simulated worlds), not for a library. On other systems, or
// where the kernel refuses, it does nothing.
package hugepages
