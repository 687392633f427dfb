package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/swarmlab/swarmlab/lab/metrics"
)

// figure is one plot of the report.
type figure struct {
	// Name is the file stem SavePlots uses.
	Name    string
	Caption string
	Plot    *plot.Plot
}

// The size of every figure: wide enough for a legend beside the data,
// and a 16:10-ish shape that fits a page column or a paper.
const (
	figWidth  = 7 * vg.Inch
	figHeight = 4.2 * vg.Inch
)

// curve is one line of a time plot.
type curve struct {
	label  string
	points []metrics.Point
	color  color.Color
	dashes []vg.Length
	width  vg.Length
}

// styles decides how lines look so that the same run or group looks the
// same in every plot of a report. With one run, colour tells groups
// apart; with several, colour is the run and the dash pattern the group.
// The overall aggregate is always solid.
type styles struct {
	multi  bool
	groups []string // leecher groups of all runs, in order of appearance
}

func newStyles(res Results) styles {
	st := styles{multi: len(res.Runs) > 1}
	for _, r := range res.Runs {
		for _, g := range r.Summary.Groups {
			if g.Leechers > 0 && !slices.Contains(st.groups, g.Name) {
				st.groups = append(st.groups, g.Name)
			}
		}
	}
	return st
}

// slot numbers a group for colours and dashes: 0 for the aggregate.
func (st styles) slot(group string) int {
	if i := slices.Index(st.groups, group); i >= 0 {
		return i + 1
	}
	return 0
}

func (st styles) curve(run int, label, group string, pts []metrics.Point, single bool) curve {
	c := curve{points: pts, width: 1.5}
	switch {
	case st.multi:
		c.color, c.dashes = palette(run), dashes(st.slot(group))
		c.label = label
		if !single {
			c.label += " · " + group
		}
	case single:
		c.color, c.label = palette(0), label
	default:
		c.color, c.label = palette(st.slot(group)), group
	}
	return c
}

// palette is the Okabe–Ito palette, distinguishable with the common
// colour-vision deficiencies, reordered to put the strongest first; the
// yellow, poor on white, comes last.
func palette(i int) color.Color {
	cs := [...]color.RGBA{
		{0x00, 0x72, 0xB2, 0xff}, // blue
		{0xD5, 0x5E, 0x00, 0xff}, // vermillion
		{0x00, 0x9E, 0x73, 0xff}, // green
		{0xCC, 0x79, 0xA7, 0xff}, // purple
		{0xE6, 0x9F, 0x00, 0xff}, // orange
		{0x56, 0xB4, 0xE9, 0xff}, // sky blue
		{0x00, 0x00, 0x00, 0xff}, // black
		{0xF0, 0xE4, 0x42, 0xff}, // yellow
	}
	return cs[i%len(cs)]
}

func dashes(i int) []vg.Length {
	ds := [][]vg.Length{
		nil,
		{vg.Points(6), vg.Points(3)},
		{vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
		{vg.Points(12), vg.Points(4)},
		{vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2), vg.Points(1), vg.Points(2)},
	}
	return ds[i%len(ds)]
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe0}
	g.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(g)
	return p
}

// addCurves draws cs as step lines (every series here is a step
// function), with y values divided by yScale.
func addCurves(p *plot.Plot, cs []curve, yScale float64) error {
	for _, c := range cs {
		if len(c.points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(c.points))
		for i, pt := range c.points {
			xys[i].X, xys[i].Y = pt.T, pt.V/yScale
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width, l.Dashes = c.color, c.width, c.dashes
		p.Add(l)
		if c.label != "" {
			p.Legend.Add(c.label, l)
		}
	}
	return nil
}

const timeAxis = "time since the start of the run (s)"

// figures builds every plot of the report for res.
func figures(res Results) ([]figure, error) {
	if len(res.Runs) == 0 {
		return nil, nil
	}
	st := newStyles(res)
	var figs []figure
	add := func(f figure, err error) error {
		if err == nil && f.Plot != nil {
			figs = append(figs, f)
		}
		return err
	}
	builders := []func() (figure, error){
		func() (figure, error) { return completedFigure(res, st) },
		func() (figure, error) { return bytesFigure(res, st) },
		func() (figure, error) { return cdfFigure(res, st) },
		func() (figure, error) { return shareFigure(res) },
		func() (figure, error) { return uselessFigure(res) },
		func() (figure, error) { return rateFigure(res) },
	}
	for _, b := range builders {
		if err := add(b()); err != nil {
			return nil, err
		}
	}
	for i := range res.Runs {
		if err := add(progressFigure(res, st, i)); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// seriesCurves returns one curve per run for the overall series, plus one
// per leecher group when a run has several.
func seriesCurves(res Results, st styles, pick func(*metrics.Summary) []metrics.Series) []curve {
	var cs []curve
	for ri, r := range res.Runs {
		var shown []metrics.Series
		for _, s := range pick(r.Summary) {
			if s.Name == metrics.AllGroups || st.slot(s.Name) > 0 {
				shown = append(shown, s)
			}
		}
		if leecherGroups(r.Summary) < 2 {
			shown = shown[:min(1, len(shown))]
		}
		for _, s := range shown {
			cs = append(cs, st.curve(ri, r.Label, s.Name, s.Points, len(shown) == 1))
		}
	}
	return cs
}

func leecherGroups(s *metrics.Summary) int {
	n := 0
	for _, g := range s.Groups {
		if g.Leechers > 0 {
			n++
		}
	}
	return n
}

func completedFigure(res Results, st styles) (figure, error) {
	p := newPlot("Peers completed over time", timeAxis, "leechers completed")
	if err := addCurves(p, seriesCurves(res, st, func(s *metrics.Summary) []metrics.Series { return s.CompletedOverTime }), 1); err != nil {
		return figure{}, err
	}
	p.X.Min, p.Y.Min = 0, 0
	return figure{Name: "completed", Plot: p,
		Caption: "Number of leechers holding the whole content, over time (seed 000, first measure)."}, nil
}

func bytesFigure(res Results, st styles) (figure, error) {
	var top float64
	for _, r := range res.Runs {
		for _, s := range r.Summary.BytesOverTime {
			for _, pt := range s.Points {
				top = math.Max(top, pt.V)
			}
		}
	}
	scale, unit := scaleBytes(top)
	p := newPlot("Bytes transferred over time", timeAxis, fmt.Sprintf("bytes downloaded (%s)", unit))
	if err := addCurves(p, seriesCurves(res, st, func(s *metrics.Summary) []metrics.Series { return s.BytesOverTime }), scale); err != nil {
		return figure{}, err
	}
	p.X.Min, p.Y.Min = 0, 0
	return figure{Name: "bytes", Plot: p,
		Caption: "Payload downloaded by all peers (wasted bytes included), summed over time (seed 000, second measure). " +
			"Units are SI: 1 MB = 10⁶ bytes."}, nil
}

// cdfFigure plots, per run and leecher group, the fraction of the group's
// leechers that completed within t seconds of joining. Leechers that
// never completed keep a curve below 1: that is the point.
func cdfFigure(res Results, st styles) (figure, error) {
	p := newPlot("Completion time distribution", "completion time since join (s)", "fraction of the group's leechers")
	var cs []curve
	var none []int // indices in cs of groups where nobody completed
	xmax := 0.0
	for ri, r := range res.Runs {
		for _, g := range r.Summary.Groups {
			if g.Leechers == 0 {
				continue
			}
			var ts []float64
			for _, pr := range r.Summary.Peers {
				if pr.Group == g.Name && pr.CompletionTime != nil {
					ts = append(ts, *pr.CompletionTime)
				}
			}
			slices.Sort(ts)
			pts := []metrics.Point{{T: 0, V: 0}}
			for k, t := range ts {
				pts = append(pts, metrics.Point{T: t, V: float64(k+1) / float64(g.Leechers)})
				xmax = math.Max(xmax, t)
			}
			if len(ts) == 0 {
				none = append(none, len(cs))
			}
			c := st.curve(ri, r.Label, g.Name, pts, false)
			c.label += fmt.Sprintf(" (%d/%d)", g.Completed, g.Leechers)
			if !st.multi {
				c.label = fmt.Sprintf("%s (%d/%d)", g.Name, g.Completed, g.Leechers)
			}
			cs = append(cs, c)
		}
	}
	// A group where nobody completed is a flat line at 0 across the plot:
	// leaving it out would hide the most telling result (free riders).
	for _, i := range none {
		cs[i].points = append(cs[i].points, metrics.Point{T: math.Max(xmax, 1), V: 0})
	}
	if err := addCurves(p, cs, 1); err != nil {
		return figure{}, err
	}
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1
	return figure{Name: "completion-cdf", Plot: p,
		Caption: "Empirical CDF of completion times (join → completed) per group; (k/n): leechers completed / leechers. " +
			"A curve that stops below 1 means some leechers never completed."}, nil
}

// progressFigure draws every leecher's progress curve of run i, thin and
// coloured by group (seed 001).
func progressFigure(res Results, st styles, i int) (figure, error) {
	r := res.Runs[i]
	title := "Per-peer progress"
	if len(res.Runs) > 1 {
		title += " — " + r.Label
	}
	p := newPlot(title, timeAxis, "fraction of pieces held")
	var cs []curve
	seen := map[string]bool{}
	for _, c := range r.Summary.Progress {
		cs = append(cs, curve{points: thin(c.Points, maxCurvePoints), color: palette(st.slot(c.Group)), width: 0.6})
		if !seen[c.Group] {
			seen[c.Group] = true
			// A legend-only line, thicker than the data so its colour reads.
			p.Legend.Add(orDash(c.Group), &plotter.Line{LineStyle: draw.LineStyle{
				Color: palette(st.slot(c.Group)), Width: vg.Points(2)}})
		}
	}
	if len(cs) == 0 {
		return figure{}, nil
	}
	if err := addCurves(p, cs, 1); err != nil {
		return figure{}, err
	}
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1
	return figure{Name: fmt.Sprintf("progress-%d", i+1), Plot: p,
		Caption: fmt.Sprintf("Fraction of the pieces each leecher of %s held over time, one line per peer, "+
			"coloured by group. A flat end below 1 is a peer that stalled or left.", r.Label)}, nil
}

// maxCurvePoints caps the points drawn per progress curve: hundreds of
// peers with thousands of pieces would otherwise make an SVG of tens of
// megabytes with no visible difference. The CSV and JSON keep them all.
const maxCurvePoints = 400

// thin keeps about n evenly spaced points of pts, always the first and
// the last, so a curve keeps its start, shape and end.
func thin(pts []metrics.Point, n int) []metrics.Point {
	if len(pts) <= n || n < 2 {
		return pts
	}
	out := make([]metrics.Point, 0, n)
	step := float64(len(pts)-1) / float64(n-1)
	for k := range n {
		out = append(out, pts[int(math.Round(float64(k)*step))])
	}
	return out
}

// groupBars collects, for every leecher group that appears in any run,
// one value per run (NaN where a run lacks the group or the value).
func groupBars(res Results, value func(metrics.GroupStats) *float64) ([]string, [][]float64) {
	var cats []string
	for _, r := range res.Runs {
		for _, g := range r.Summary.Groups {
			if g.Leechers > 0 && !slices.Contains(cats, g.Name) {
				cats = append(cats, g.Name)
			}
		}
	}
	vals := make([][]float64, len(res.Runs))
	for ri, r := range res.Runs {
		vals[ri] = make([]float64, len(cats))
		for ci := range vals[ri] {
			vals[ri][ci] = math.NaN()
		}
		for _, g := range r.Summary.Groups {
			if ci := slices.Index(cats, g.Name); ci >= 0 && g.Leechers > 0 {
				if v := value(g); v != nil {
					vals[ri][ci] = *v
				}
			}
		}
	}
	return cats, vals
}

// barPlot draws grouped bars: a cluster per category, a bar per run,
// each with its value written above it (so a zero bar is told from a
// missing one, which reads "n/a").
func barPlot(res Results, title, ylabel string, cats []string, vals [][]float64, format func(float64) string) (*plot.Plot, error) {
	p := newPlot(title, "group", ylabel)
	n := len(res.Runs)
	// About 330 pt of data width is left beside a legend; bars take 70%
	// of each category's share, so clusters stay apart.
	w := vg.Points(math.Min(36, 0.7*330/float64(max(1, n*len(cats)))))
	top := 0.0
	for ri, r := range res.Runs {
		vs := make(plotter.Values, len(cats))
		var lab plotter.XYLabels
		for ci, v := range vals[ri] {
			text := na
			if !math.IsNaN(v) {
				vs[ci], text = v, format(v)
				top = math.Max(top, v)
			}
			lab.XYs = append(lab.XYs, plotter.XY{X: float64(ci), Y: vs[ci]})
			lab.Labels = append(lab.Labels, text)
		}
		b, err := plotter.NewBarChart(vs, w)
		if err != nil {
			return nil, err
		}
		b.Color = palette(ri)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(ri)-float64(n-1)/2) * w
		p.Add(b)
		if n > 1 {
			p.Legend.Add(r.Label, b)
		}
		l, err := plotter.NewLabels(lab)
		if err != nil {
			return nil, err
		}
		l.Offset = vg.Point{X: b.Offset, Y: vg.Points(3)}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(l)
	}
	p.NominalX(cats...)
	// Half a category of margin on each side, so edge clusters are whole.
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	p.Y.Min = 0
	// Headroom for the value labels.
	p.Y.Max = math.Max(p.Y.Max, top*1.12)
	return p, nil
}

func shareFigure(res Results) (figure, error) {
	cats, vals := groupBars(res, func(g metrics.GroupStats) *float64 { return g.ShareRatio })
	if len(cats) == 0 {
		return figure{}, nil
	}
	p, err := barPlot(res, "Share ratio per group", "share ratio Σuploaded / Σdownloaded", cats, vals,
		func(v float64) string { return fmt.Sprintf("%.2f", v) })
	if err != nil {
		return figure{}, err
	}
	// Keep the reference line at 1 in view even when every bar is lower.
	p.Y.Max = math.Max(p.Y.Max, 1.1)
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color, one.Dashes, one.Width = color.Gray{Y: 0x60}, []vg.Length{vg.Points(4), vg.Points(3)}, vg.Points(1)
	one.XMin, one.XMax = -0.5, float64(len(cats))-0.5 // across every cluster
	p.Add(one)
	p.Legend.Add("ratio 1", one)
	return figure{Name: "share-ratio", Plot: p,
		Caption: "Bytes the group's leechers uploaded over bytes they downloaded. Above the dashed line at 1 a group " +
			"gave more than it took; free riders sit at 0."}, nil
}

func uselessFigure(res Results) (figure, error) {
	gossip := false
	for _, r := range res.Runs {
		gossip = gossip || r.Summary.Gossip
	}
	if !gossip {
		return figure{}, nil
	}
	cats, vals := groupBars(res, func(g metrics.GroupStats) *float64 { v := float64(g.Useless); return &v })
	if len(cats) == 0 {
		return figure{}, nil
	}
	p, err := barPlot(res, "Useless gossip transfers per group", "useless transfers (pieces)", cats, vals,
		func(v float64) string { return fmt.Sprintf("%.0f", v) })
	if err != nil {
		return figure{}, err
	}
	return figure{Name: "useless", Plot: p,
		Caption: "Pieces pushed by gossip to a peer that already had or was getting them (seed 001's redundant transfers), " +
			"counted at the receiving group."}, nil
}

// rateFigure shows mean download rates per group, only for incentive
// worlds, where who gets how much is the question.
func rateFigure(res Results) (figure, error) {
	incentive := false
	for _, r := range res.Runs {
		incentive = incentive || r.Summary.Incentives != nil
	}
	if !incentive {
		return figure{}, nil
	}
	var top float64
	for _, r := range res.Runs {
		for _, g := range r.Summary.Groups {
			if g.DownloadRate != nil {
				top = math.Max(top, g.DownloadRate.Mean)
			}
		}
	}
	scale, unit := scaleBytes(top)
	cats, vals := groupBars(res, func(g metrics.GroupStats) *float64 {
		if g.DownloadRate == nil {
			return nil
		}
		v := g.DownloadRate.Mean / scale
		return &v
	})
	if len(cats) == 0 {
		return figure{}, nil
	}
	p, err := barPlot(res, "Mean download rate per group", fmt.Sprintf("mean download rate (%s/s)", unit), cats, vals,
		func(v float64) string { return fmt.Sprintf("%.3g", v) })
	if err != nil {
		return figure{}, err
	}
	return figure{Name: "download-rate", Plot: p,
		Caption: "Mean over the group's leechers of the useful bytes received per second of leeching " +
			"(content size over completion time for those that completed): what strategic peers and free riders get."}, nil
}

// render draws f in format ("svg", "png", "pdf", …) with its legend in a
// column right of the axes, so that no legend ever hides a curve.
func render(f figure, format string) ([]byte, error) {
	c, err := draw.NewFormattedCanvas(figWidth, figHeight, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	p := *f.Plot
	leg := p.Legend
	p.Legend = plot.NewLegend()
	var lw vg.Length
	if r := leg.Rectangle(dc); r.Size().X > 0 {
		lw = r.Size().X + vg.Points(14)
	}
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	if lw > 0 {
		top := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + vg.Points(4)
		leg.Top, leg.Left = true, true
		leg.Draw(draw.Crop(dc, figWidth-lw+vg.Points(8), 0, 0, -top))
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SavePlots writes every figure of the report for res (see Measure) into
// dir as NAME.ext, where ext is a format gonum/plot knows ("png", "svg",
// "pdf", "eps", …), and returns the paths written.
func SavePlots(dir string, res Results, ext string) ([]string, error) {
	ext = strings.TrimPrefix(strings.ToLower(ext), ".")
	figs, err := figures(res)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range figs {
		data, err := render(f, ext)
		if err != nil {
			return paths, fmt.Errorf("report: plot %s: %w", f.Name, err)
		}
		path := filepath.Join(dir, f.Name+"."+ext)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
