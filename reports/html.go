package reports

import (
	"html/template"
	"io"
	"time"
)

// WriteHTML writes the run as one self-contained page: the verdict, then
// every requirement with its result and citation and, where it did not
// pass, what was expected, what came back, a curl command that repeats the
// request and the redacted exchange. The page loads nothing from outside
// (styles are inline, there is no script) and folds evidence with
// <details>, which needs no JavaScript. html/template escapes everything a
// target sent.
func WriteHTML(w io.Writer, r *Run) error {
	c := r.Counts()
	class := "pass"
	switch {
	case r.Stopped != "":
		class = "stopped"
	case !r.Conforms():
		class = "fail"
	}
	results := make([]htmlResult, 0, len(r.Results))
	for _, res := range r.Results {
		results = append(results, htmlResult{
			ID: clean(res.ID), Level: string(res.Level), Status: string(res.Status), Label: label(res.Status),
			Statement: clean(res.Statement), Citation: clean(res.Citation), Reason: clean(res.Reason),
			Expected: clean(res.Expected), Got: clean(res.Got), Curl: clean(res.Curl), Exchange: clean(res.Exchange),
			Duration: res.Duration.Round(time.Millisecond).String(),
		})
	}
	notes := make([]string, 0, len(r.Notes))
	for _, n := range r.Notes {
		notes = append(notes, clean(n))
	}
	return htmlPage.Execute(w, htmlRun{
		Profile: clean(r.Profile), Target: clean(r.Target), Verdict: clean(r.Verdict()), Class: class, Counts: c,
		Started: r.Started.UTC().Format(time.RFC3339), Duration: r.Duration.Round(time.Millisecond).String(),
		Notes: notes, Results: results,
	})
}

type htmlRun struct {
	Profile, Target, Verdict, Class string
	Counts                          Counts
	Started, Duration               string
	Notes                           []string
	Results                         []htmlResult
}

type htmlResult struct {
	ID, Level, Status, Label, Statement, Citation string
	Reason, Expected, Got, Curl, Exchange         string
	Duration                                      string
}

func label(s Status) string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	case Error:
		return "ERROR"
	}
	return "skip"
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>opsconform: {{.Profile}} against {{.Target}}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.4em; }
.verdict { padding: .7em 1em; border-radius: .3em; font-weight: 600; }
.verdict.pass { background: #e3f4e1; border: 1px solid #2e7d32; }
.verdict.fail { background: #fde4e1; border: 1px solid #c62828; }
.verdict.stopped { background: #fff3d6; border: 1px solid #a66b00; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em; border-bottom: 1px solid #ddd; }
td.status { font-weight: 600; white-space: nowrap; }
tr.fail td.status, tr.error td.status { color: #c62828; }
tr.skip td.status { color: #6b6b6b; }
tr.pass td.status { color: #2e7d32; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: #f5f5f5; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
dl { margin: .4em 0; } dt { font-weight: 600; } dd { margin: 0 0 .4em 1em; }
.cite { color: #555; font-size: .9em; }
</style>
</head>
<body>
<h1>opsconform: <code>{{.Profile}}</code> against <code>{{.Target}}</code></h1>
<p class="verdict {{.Class}}" id="verdict">{{.Verdict}}</p>
<p>{{.Counts.Total}} requirements: {{.Counts.Passed}} passed, {{.Counts.Failed}} failed, {{.Counts.Errored}} errored, {{.Counts.Skipped}} skipped, in {{.Duration}} (started {{.Started}}).</p>
{{if .Notes}}<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<table>
<thead><tr><th>requirement</th><th>level</th><th>result</th><th>statement, citation and evidence</th></tr></thead>
<tbody>
{{range .Results}}<tr class="{{.Status}}" id="{{.ID}}">
<td><code>{{.ID}}</code></td><td>{{.Level}}</td><td class="status">{{.Label}}</td>
<td>{{.Statement}}<div class="cite">cited: {{.Citation}}</div>
{{if .Reason}}<p class="reason">{{.Reason}}</p>{{end}}
{{if or .Expected .Got}}<dl><dt>expected</dt><dd><code>{{.Expected}}</code></dd><dt>received</dt><dd><code>{{.Got}}</code></dd></dl>{{end}}
{{if .Curl}}<details><summary>repeat it with curl</summary><pre>{{.Curl}}</pre></details>{{end}}
{{if .Exchange}}<details><summary>exchange (credentials redacted)</summary><pre>{{.Exchange}}</pre></details>{{end}}
</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))
