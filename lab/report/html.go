package report

import (
	"bytes"
	"fmt"
	"html/template"
)

// page is report.html. It loads nothing: styles are inline and plots
// are inline SVG, so the file can be mailed, archived or opened from disk
// years later and look the same.
const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swarmlab report: {{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; white-space: nowrap; }
td.long { white-space: normal; min-width: 18rem; }
th { background: #f3f3f3; }
.notes { font-size: .82rem; color: #555; margin: .2rem 0 1rem; padding-left: 1.2rem; }
figure { margin: 1.6rem 0; }
figure svg { width: 100%; max-width: 60rem; height: auto; }
figcaption { font-size: .88rem; color: #444; max-width: 50rem; }
.scroll { overflow-x: auto; }
</style>
</head>
<body>
<h1>swarmlab report</h1>
<p>{{len .Runs.Rows}} run(s). The numbers below are computed from the raw run records in <code>results.json</code>;
the time series are also in <code>completed_over_time.csv</code>, <code>bytes_over_time.csv</code>,
<code>progress.csv</code> and per peer in <code>peers.csv</code> (see <code>docs/results-schema.md</code>).</p>
{{template "table" .Runs}}
{{template "table" .Comparison}}
<h2>Plots</h2>
{{range .Figures}}<figure id="{{.Name}}">
{{.SVG}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{else}}<p>No runs, no plots.</p>
{{end}}
<h2>Bounds, sharing and incentives</h2>
{{range .Tables}}{{template "table" .}}{{end}}
</body>
</html>
{{define "table"}}<h3>{{.Title}}</h3>
<div class="scroll"><table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td{{if gt (len .) 30}} class="long"{{end}}>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{with .Notes}}<ul class="notes">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{end}}`

// htmlFigure is a rendered figure ready for the page.
type htmlFigure struct {
	Name, Caption string
	SVG           template.HTML
}

func writeHTML(b *bytes.Buffer, res Results) error {
	tmpl, err := template.New("report").Parse(page)
	if err != nil {
		return err
	}
	figs, err := figures(res)
	if err != nil {
		return err
	}
	data := struct {
		Title      string
		Runs       table
		Comparison table
		Figures    []htmlFigure
		Tables     []table
	}{
		Runs:       runsTable(res),
		Comparison: comparisonTable(res),
		Tables:     []table{boundTable(res), sharingTable(res)},
	}
	for i, r := range res.Runs {
		if i > 0 {
			data.Title += ", "
		}
		data.Title += r.Label
	}
	if t, ok := gossipTable(res); ok {
		data.Tables = append(data.Tables, t)
	}
	if t, ok := incentiveTable(res); ok {
		data.Tables = append(data.Tables, t)
	}
	for _, f := range figs {
		svg, err := render(f, "svg")
		if err != nil {
			return fmt.Errorf("plot %s: %w", f.Name, err)
		}
		// Inline SVG in HTML takes the <svg> element alone, without the
		// XML declaration and comment gonum writes before it. The SVG is
		// gonum's own output, whose text it escapes, hence trusted HTML.
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:]
		}
		data.Figures = append(data.Figures, htmlFigure{Name: f.Name, Caption: f.Caption, SVG: template.HTML(svg)})
	}
	return tmpl.Execute(b, data)
}

// runsTable says what each run was.
func runsTable(res Results) table {
	t := table{
		Title: "Runs",
		Head: []string{"run", "scenario", "mode", "seed", "content", "peers", "length (s)",
			"wall (s)", "verified"},
	}
	for _, r := range res.Runs {
		s := r.Summary
		c := s.Content
		t.Rows = append(t.Rows, []string{
			r.Label, orDash(r.Scenario), orDash(r.Mode), fmt.Sprint(r.Seed),
			fmt.Sprintf("%s, %d × %s pieces", fmtBytes(c.Size), c.Pieces, fmtBytes(c.PieceLength)),
			fmt.Sprint(s.Overall.Peers), fmtSec(&s.End), fmtSec(&s.Wall), fmt.Sprint(s.Verified),
		})
	}
	return t
}
