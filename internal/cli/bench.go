package cli

import "github.com/spf13/cobra"

// newBenchCommand is the parent of the load and speed measurements that
// ship with the binary (`swarmlab bench tracker`). Comparisons with other
// implementations live in the separate bench/ module instead, so that those
// implementations never become dependencies of swarmlab.
func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure performance (load generators)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("bench: unknown command %q (see 'swarmlab bench --help')", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBenchTrackerCommand())
	return cmd
}
