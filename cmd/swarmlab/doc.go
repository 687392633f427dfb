// Command swarmlab is the BitTorrent engine and strategy lab's command line.
// All behaviour lives in package internal/cli; main.go only connects it
// to the process: arguments, standard streams, signals and the exit code.
package main
