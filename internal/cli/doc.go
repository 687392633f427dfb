// Package cli implements the swarmlab command line: a cobra command tree
// whose subcommands only parse flags and arguments, call the library
// packages, and format the result.
//
// Run is the whole program minus process concerns (os.Args, signals,
// os.Exit), so tests drive it in-process with their own argument lists and
// output buffers. Every failure surfaces as a single-line error and an exit
// code: 1 for a failed operation, 2 for a command line that could not be
// understood, 130 after an interrupt.
package cli
