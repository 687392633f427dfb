package cli

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal. Anything that is not a file
// (a test buffer, a pipe wrapper) counts as not one, so progress output
// never ends up in logs or captured output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// hashProgress draws a byte progress bar for hashing on w. The bar is made
// on the first report because only then is the total known.
type hashProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// update is a metainfo.CreateOptions.Progress callback.
func (p *hashProgress) update(hashed, total int64) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("hashing"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set64(hashed) // drawing is best effort; the result matters, not the bar
}

// done removes the bar so the next line (a summary or an error) starts on
// a clean line.
func (p *hashProgress) done() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}
