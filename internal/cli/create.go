package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/metainfo"
)

type createFlags struct {
	output    string
	trackers  []string
	webSeeds  []string
	pieceSize string
	private   bool
	comment   string
	force     bool
	noDate    bool
}

func newCreateCommand() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create -o OUT.torrent [flags] PATH",
		Short: "Make a .torrent from a file or directory",
		Long: `Create hashes PATH (a file, or a directory whose regular files are all
included) and writes a v1 .torrent to OUT.

The first --tracker becomes the announce URL; with several, each gets its own
tier so clients fall back from one to the next. Symbolic links below PATH are
refused rather than followed.`,
		Args: exactArgs("PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd, args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "", "write the torrent to `FILE` (required)")
	// StringArray, not StringSlice: URLs may contain commas.
	fl.StringArrayVarP(&f.trackers, "tracker", "t", nil, "tracker announce `URL`; repeat for backup trackers")
	fl.StringArrayVar(&f.webSeeds, "web-seed", nil, "web seed `URL` (BEP 19); repeatable")
	fl.StringVar(&f.pieceSize, "piece-size", "", "piece `SIZE`: a power of two of at least 16K, e.g. 262144, 256K, 4MiB (default automatic)")
	fl.BoolVar(&f.private, "private", false, "set the private flag (BEP 27): peers only from the trackers")
	fl.StringVar(&f.comment, "comment", "", "free-form `TEXT` stored in the torrent")
	fl.BoolVar(&f.force, "force", false, "overwrite OUT if it exists")
	fl.BoolVar(&f.noDate, "no-date", false, "omit the creation date, so the same input gives the same file")
	return cmd
}

func runCreate(cmd *cobra.Command, root string, f *createFlags) error {
	if f.output == "" {
		return usagef("create: -o/--output is required")
	}
	var pieceLen int64
	if f.pieceSize != "" {
		n, err := parsePieceSize(f.pieceSize)
		if err != nil {
			return usagef("create: --piece-size: %v", err)
		}
		pieceLen = n
	}
	if err := checkOutput(root, f.output, f.force); err != nil {
		return err
	}

	opts := metainfo.CreateOptions{
		Trackers:    f.trackers,
		WebSeeds:    f.webSeeds,
		PieceLength: pieceLen,
		Private:     f.private,
		Comment:     f.comment,
		CreatedBy:   "swarmlab/" + Version,
	}
	if !f.noDate {
		opts.CreationDate = time.Now()
	}
	var bar *hashProgress
	if isTerminal(cmd.ErrOrStderr()) {
		bar = &hashProgress{w: cmd.ErrOrStderr()}
		opts.Progress = bar.update
	}
	m, err := metainfo.Create(cmd.Context(), root, opts)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return err
	}
	data, err := m.Encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.output, data, f.force); err != nil {
		return err
	}
	files := len(m.Info.Files)
	if files == 0 {
		files = 1
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: info hash %s, %d pieces of %s, %s in %d file(s)\n",
		f.output, m.InfoHash.HexString(), len(m.Info.Pieces)/metainfo.HashSize,
		formatBytes(m.Info.PieceLength), formatBytes(m.Info.TotalLength()), files)
	return err
}

// parsePieceSize reads --piece-size. Only powers of two are accepted: other
// sizes are legal in v1 but some clients mishandle them and v2 forbids them.
func parsePieceSize(s string) (int64, error) {
	n, err := scenario.ParseSize(s)
	if err != nil {
		return 0, err
	}
	switch {
	case n < metainfo.MinPieceLength:
		return 0, fmt.Errorf("%d bytes is below the minimum of %s", n, formatBytes(metainfo.MinPieceLength))
	case n > metainfo.MaxPieceLength:
		return 0, fmt.Errorf("%s is above the maximum of %s", formatBytes(n), formatBytes(metainfo.MaxPieceLength))
	case n&(n-1) != 0:
		return 0, fmt.Errorf("%d bytes is not a power of two", n)
	}
	return n, nil
}

// checkOutput fails before any hashing when the result could not be
// written, or would overwrite or become part of its own input.
func checkOutput(root, out string, force bool) error {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if absOut == absRoot {
		return fmt.Errorf("output %s would overwrite the content it describes", out)
	}
	if rel, err := filepath.Rel(absRoot, absOut); err == nil && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != ".." {
		return fmt.Errorf("output %s is inside %s and would become part of the torrent", out, root)
	}
	fi, err := os.Lstat(out)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("output %s is a directory", out)
	case err == nil && !force:
		return fmt.Errorf("output %s already exists (use --force to overwrite it)", out)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so readers see either the old file or the complete new one,
// never a partial torrent. Without force the final step is a hard link,
// which fails if path appeared since checkOutput looked.
func writeFileAtomic(path string, data []byte, force bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file 0600; a torrent is not secret.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if force {
		return os.Rename(name, path)
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("output %s already exists (use --force to overwrite it)", path)
		}
		// Filesystems without hard links: fall back to a check and rename,
		// which leaves only a tiny window for a racing writer.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("output %s already exists (use --force to overwrite it)", path)
		}
		return os.Rename(name, path)
	}
	os.Remove(name) // the torrent is in place; a leftover temp file is harmless
	return nil
}
