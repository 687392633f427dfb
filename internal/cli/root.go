package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
)

// Version is the swarmlab release this binary reports and writes into the
// "created by" field of the torrents it makes.
const Version = "0.1.0-dev"

// Exit codes returned by Run.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130 // 128 + SIGINT, what shells report for Ctrl-C
)

// usageError marks a command line that could not be understood, as opposed
// to a well-formed request that failed; Run maps it to ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// NewRootCommand builds the swarmlab command tree. Output goes to the
// command's Out and Err writers (cmd.SetOut, cmd.SetErr), so callers and
// tests choose where it lands.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "swarmlab",
		Short: "BitTorrent engine and strategy lab",
		// Errors are printed once, by Run, as a single line; cobra's own
		// printing would add usage text and duplicates.
		SilenceUsage:  true,
		SilenceErrors: true,
		// Setting Args makes cobra hand unknown subcommands to us instead
		// of building a multi-line "Did you mean" message.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q (see 'swarmlab --help')", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%s: %v", cmd.Name(), err)
	})
	root.AddCommand(newCreateCommand(), newInspectCommand(), newDownloadCommand(), newSeedCommand(), newTrackerCommand(), newBenchCommand(), newLabCommand(), newVersionCommand())
	return root
}

// Run executes the swarmlab command line args (without the program name)
// and returns the process exit code. Errors are written to stderr as one
// line, "swarmlab: <message>". Cancelling ctx (on an interrupt, say)
// aborts long operations such as hashing.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// Bad input must never produce a stack trace; a panic here is a
		// bug, but the user still gets one line and a failure code.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "swarmlab: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = ExitFailure
		}
	}()
	root := NewRootCommand()
	root.SetOut(stdout)
	root.SetErr(stderr)
	if args == nil {
		// cobra falls back to os.Args for a nil slice.
		args = []string{}
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	switch {
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintln(stderr, "swarmlab: interrupted")
		return ExitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "swarmlab: %s\n", oneLine(err.Error()))
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "swarmlab: %s\n", oneLine(err.Error()))
		return ExitFailure
	}
}

// oneLine folds a message onto a single line so that every error is exactly
// one line of stderr whatever the underlying error text holds: each run of
// control characters (newlines, tabs, terminal escapes from a hostile file
// name) becomes one space.
func oneLine(s string) string {
	var b strings.Builder
	inRun := false
	for _, r := range s {
		if unicode.IsControl(r) {
			if !inRun {
				b.WriteByte(' ')
			}
			inRun = true
			continue
		}
		inRun = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// exactArgs is cobra.ExactArgs with a message that names the argument and
// counts as a usage error.
func exactArgs(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("%s: missing %s argument", cmd.Name(), what)
		case len(args) > 1:
			return usagef("%s: want one %s argument, got %d", cmd.Name(), what, len(args))
		}
		return nil
	}
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", cmd.Name(), args[0])
	}
	return nil
}
