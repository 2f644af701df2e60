// Dev-only oracle that produced the recorded cases in ../template_go_recorded.py: it renders templates with
// Go's text/template, sprig v3.2.3 (werf's version) and werf's include/tpl/required/fromYaml (+ Helm's toYaml).
//
// Build on Debian (no network module downloads needed):
//   apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev golang-github-ghodss-yaml-dev
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o oracle main.go
// Use: echo '[{"tpl": "{{ add 1 2 }}", "data": {}}]' | ./oracle   ->  [{"out":"3"}]  (or "err" on failure)
// JSON numbers without '.'/exponent become Go ints, the others float64, matching the Python value model.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
	yamlv2 "gopkg.in/yaml.v2"
)

// usage: oracle < input ; input = JSON {"tpl": "...", "data": ..., "name": "..."}
type req struct {
	Tpl  string      `json:"tpl"`
	Data interface{} `json:"data"`
	Name string      `json:"name"`
	Tmpls map[string]string `json:"tmpls"`
}

func render(r req) (string, error) {
	name := r.Name
	if name == "" { name = "werf.yaml" }
	tmpl := template.New(name)
	funcs := sprig.TxtFuncMap()
	delete(funcs, "expandenv")
	funcs["include"] = func(n string, d interface{}) (string, error) {
		var buf bytes.Buffer
		err := tmpl.ExecuteTemplate(&buf, n, d)
		return buf.String(), err
	}
	funcs["tpl"] = func(s string, d interface{}) (string, error) {
		t, err := tmpl.Clone()
		if err != nil { return "", err }
		nt, err := t.New(fmt.Sprintf("tpl-%d", adler32.Checksum([]byte(s)))).Parse(s)
		if err != nil { return "", err }
		var buf bytes.Buffer
		err = nt.Execute(&buf, d)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, val interface{}) (interface{}, error) {
		if val == nil { return val, fmt.Errorf(msg) }
		if _, ok := val.(string); ok && val == "" { return val, fmt.Errorf(msg) }
		return val, nil
	}
	funcs["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil { return "" }
		return strings.TrimSuffix(string(data), "\n")
	}
	funcs["fromYaml"] = func(s string) (map[string]interface{}, error) {
		m := map[string]interface{}{}
		if err := yamlv2.Unmarshal([]byte(s), &m); err != nil { return nil, err }
		return m, nil
	}
	tmpl.Funcs(funcs)
	for n, s := range r.Tmpls {
		if _, err := tmpl.New(n).Parse(s); err != nil { return "", err }
	}
	if _, err := tmpl.New(name).Parse(r.Tpl); err != nil { return "", err }
	var buf bytes.Buffer
	err := tmpl.ExecuteTemplate(&buf, name, r.Data)
	return buf.String(), err
}

func main() {
	in, _ := io.ReadAll(os.Stdin)
	var reqs []req
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	if err := dec.Decode(&reqs); err != nil { panic(err) }
	for i := range reqs { reqs[i].Data = fixNums(reqs[i].Data) }
	var outs []map[string]string
	for _, r := range reqs {
		out, err := render(r)
		m := map[string]string{"out": out}
		if err != nil { m["err"] = err.Error() }
		outs = append(outs, m)
	}
	b, _ := json.Marshal(outs)
	os.Stdout.Write(b)
}

func fixNums(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") { f, _ := x.Float64(); return f }
		i, _ := x.Int64(); return int(i)
	case map[string]interface{}:
		for k, e := range x { x[k] = fixNums(e) }
		return x
	case []interface{}:
		for i, e := range x { x[i] = fixNums(e) }
		return x
	}
	return v
}
