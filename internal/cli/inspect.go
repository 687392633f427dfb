package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/metainfo"
)

func newInspectCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--json] FILE.torrent|MAGNET",
		Short: "Describe a .torrent file or a magnet link",
		Long: `Inspect prints what a .torrent file or magnet link says: name, info hash,
pieces, files, trackers and any warnings found while parsing.

With --json the output is one JSON object whose keys do not change between
releases; absent values are empty strings, zeros, empty arrays or null.`,
		Args: exactArgs("FILE.torrent or MAGNET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

func runInspect(w io.Writer, arg string, asJSON bool) error {
	if len(arg) >= len("magnet:") && strings.EqualFold(arg[:len("magnet:")], "magnet:") {
		mg, err := metainfo.ParseMagnet(arg)
		if err != nil {
			return err
		}
		v := magnetJSON{
			InfoHash: mg.InfoHash.HexString(),
			Name:     mg.DisplayName,
			Trackers: nonNil(mg.Trackers),
			WebSeeds: nonNil(mg.WebSeeds),
			Peers:    nonNil(mg.Peers),
		}
		if asJSON {
			return writeJSON(w, v)
		}
		return writeMagnetText(w, v)
	}
	m, err := metainfo.Load(arg)
	if err != nil {
		return err
	}
	v := torrentView(m)
	if asJSON {
		return writeJSON(w, v)
	}
	return writeTorrentText(w, v)
}

// torrentJSON is inspect --json's output for a .torrent. Field order is
// the output order and part of the interface; add fields, never rename.
type torrentJSON struct {
	InfoHash     string     `json:"info_hash"`
	Name         string     `json:"name"`
	PieceLength  int64      `json:"piece_length"`
	Pieces       int        `json:"pieces"`
	TotalLength  int64      `json:"total_length"`
	Private      bool       `json:"private"`
	MetaVersion  int        `json:"meta_version"`
	Files        []fileJSON `json:"files"`
	Trackers     []string   `json:"trackers"` // unique URLs, announce first, then tier order
	Tiers        [][]string `json:"tiers"`    // as a client uses them
	WebSeeds     []string   `json:"web_seeds"`
	Comment      string     `json:"comment"`
	CreatedBy    string     `json:"created_by"`
	CreationDate *string    `json:"creation_date"` // RFC 3339 UTC, null when absent
	Warnings     []string   `json:"warnings"`
}

type fileJSON struct {
	Path   string `json:"path"` // components joined with '/'
	Length int64  `json:"length"`
	Attr   string `json:"attr,omitempty"`
}

// magnetJSON is inspect --json's output for a magnet link, which carries no
// piece or file information.
type magnetJSON struct {
	InfoHash string   `json:"info_hash"`
	Name     string   `json:"name"`
	Trackers []string `json:"trackers"`
	WebSeeds []string `json:"web_seeds"`
	Peers    []string `json:"peers"`
}

func torrentView(m *metainfo.MetaInfo) torrentJSON {
	v := torrentJSON{
		InfoHash:    m.InfoHash.HexString(),
		Name:        m.Info.Name,
		PieceLength: m.Info.PieceLength,
		Pieces:      m.Info.NumPieces(),
		TotalLength: m.Info.TotalLength(),
		Private:     m.Info.Private,
		MetaVersion: m.Info.MetaVersion,
		Files:       []fileJSON{},
		Tiers:       [][]string{},
		WebSeeds:    nonNil(m.URLList),
		Comment:     m.Comment,
		CreatedBy:   m.CreatedBy,
		Warnings:    nonNil(m.Warnings),
	}
	for _, f := range m.Info.FileList() {
		v.Files = append(v.Files, fileJSON{Path: strings.Join(f.Path, "/"), Length: f.Length, Attr: f.Attr})
	}
	// BEP 12: a client that understands announce-list ignores announce.
	switch {
	case len(m.AnnounceList) > 0:
		for _, tier := range m.AnnounceList {
			v.Tiers = append(v.Tiers, nonNil(tier))
		}
	case m.Announce != "":
		v.Tiers = append(v.Tiers, []string{m.Announce})
	}
	seen := map[string]bool{}
	v.Trackers = []string{}
	add := func(u string) {
		if u != "" && !seen[u] {
			seen[u] = true
			v.Trackers = append(v.Trackers, u)
		}
	}
	add(m.Announce)
	for _, tier := range v.Tiers {
		for _, u := range tier {
			add(u)
		}
	}
	if m.CreationDate != 0 {
		s := time.Unix(m.CreationDate, 0).UTC().Format(time.RFC3339)
		v.CreationDate = &s
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// textWriter accumulates the first write error so the formatting code can
// stay a flat list of lines.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func writeTorrentText(w io.Writer, v torrentJSON) error {
	t := &textWriter{w: w}
	t.printf("Name:          %s\n", safe(v.Name))
	t.printf("Info hash:     %s\n", v.InfoHash)
	t.printf("Piece length:  %s (%d bytes)\n", formatBytes(v.PieceLength), v.PieceLength)
	t.printf("Pieces:        %d\n", v.Pieces)
	t.printf("Total size:    %s (%d bytes)\n", formatBytes(v.TotalLength), v.TotalLength)
	t.printf("Private:       %s\n", yesNo(v.Private))
	if v.MetaVersion != 0 {
		t.printf("Meta version:  %d (hybrid; shown as v1)\n", v.MetaVersion)
	}
	if v.CreatedBy != "" {
		t.printf("Created by:    %s\n", safe(v.CreatedBy))
	}
	if v.CreationDate != nil {
		t.printf("Created:       %s\n", *v.CreationDate)
	}
	if v.Comment != "" {
		t.printf("Comment:       %s\n", safe(v.Comment))
	}
	if len(v.Tiers) > 0 {
		t.printf("Trackers:\n")
		for i, tier := range v.Tiers {
			for _, u := range tier {
				t.printf("  tier %d: %s\n", i+1, safe(u))
			}
		}
	}
	if len(v.WebSeeds) > 0 {
		t.printf("Web seeds:\n")
		for _, u := range v.WebSeeds {
			t.printf("  %s\n", safe(u))
		}
	}
	t.printf("Files (%d):\n", len(v.Files))
	width := 0
	for _, f := range v.Files {
		width = max(width, len(strconv.FormatInt(f.Length, 10)))
	}
	for _, f := range v.Files {
		note := ""
		switch {
		case strings.Contains(f.Attr, "p"):
			note = "  [pad]"
		case f.Attr != "":
			note = "  [attr " + safe(f.Attr) + "]"
		}
		t.printf("  %*d  %s%s\n", width, f.Length, safe(f.Path), note)
	}
	if len(v.Warnings) > 0 {
		t.printf("Warnings:\n")
		for _, s := range v.Warnings {
			t.printf("  %s\n", safe(s))
		}
	}
	return t.err
}

func writeMagnetText(w io.Writer, v magnetJSON) error {
	t := &textWriter{w: w}
	t.printf("Magnet link\n")
	if v.Name != "" {
		t.printf("Name:          %s\n", safe(v.Name))
	}
	t.printf("Info hash:     %s\n", v.InfoHash)
	list := func(title string, items []string) {
		if len(items) > 0 {
			t.printf("%s:\n", title)
			for _, s := range items {
				t.printf("  %s\n", safe(s))
			}
		}
	}
	list("Trackers", v.Trackers)
	list("Web seeds", v.WebSeeds)
	list("Peers", v.Peers)
	return t.err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// safe returns s for display on a terminal. Names and comments come from
// untrusted files; one holding control characters (escape sequences,
// newlines) or invalid UTF-8 is shown Go-quoted instead of raw, so it can
// neither drive the terminal nor forge extra output lines.
func safe(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
