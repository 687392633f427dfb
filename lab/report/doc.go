// Package report turns lab runs into files a researcher can read, plot
// again or put in a paper.
//
// Write measures each run with lab/metrics and writes, into one
// directory: results.json (every run's summary and its raw record, under
// a versioned schema), CSV time series in long format, a per-peer CSV,
// and report.html, a self-contained page whose plots are inline SVG drawn
// with gonum/plot. Table prints the same comparison table to a terminal.
// SavePlots writes the figures as separate PNG, SVG or PDF files.
//
// Several runs passed together — variants of one scenario, such as
// random, rarest-first and market pickers, or one scenario under
// several seeds — are compared side by side on the same axes. The schema
// of every file is documented in docs/results-schema.md.
package report
