package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/swarmlab/swarmlab/internal/cli"
)

func main() {
	// The first interrupt cancels the context so long operations stop
	// cleanly; stop() restores the default so a second one kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
