// render-chart renders a Helm chart the way `helm template` does, for CI on a machine without Helm:
// Go's text/template with the sprig function map (minus env/expandenv, as in Helm) plus Helm's own
// functions (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup), values coalesced
// from the chart's values.yaml and -f files (later files win, null deletes a key), numbers decoded as
// float64 like Helm's YAML->JSON decoding, "<no value>" blanked, partials (_*.tpl) not emitted.
// It does not validate values.schema.json (hack/render-chart/check_values_schema.py does that).
//
// Build (Debian packages golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o render-chart ./hack/render-chart
// Usage:
//   render-chart -chart charts/prescient [-f values.yaml]... [-release NAME] [-namespace NS] [-notes]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// yamlToJSONValue decodes YAML the way sigs.k8s.io/yaml does (YAML -> JSON -> interface{}), so
// numbers are float64 and maps are map[string]interface{}, as templates see them in Helm.
func yamlToJSONValue(data []byte, out interface{}) error {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return err
	}
	conv, err := convert(raw)
	if err != nil {
		return err
	}
	j, err := json.Marshal(conv)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, out)
}

func convert(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range t {
			c, err := convert(val)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			c, err := convert(val)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

// toYAML is Helm's toYaml: JSON-marshal, re-read as YAML (ints stay ints), marshal with sorted keys.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yamlToJSONValue([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// coalesce merges over into base: maps merge recursively, anything else replaces, null deletes.
func coalesce(base, over map[string]interface{}) map[string]interface{} {
	for k, v := range over {
		if v == nil {
			delete(base, k)
			continue
		}
		if vm, ok := v.(map[string]interface{}); ok {
			if bm, ok := base[k].(map[string]interface{}); ok {
				base[k] = coalesce(bm, vm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

type files struct{ root string }

func (f files) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(f.root, name))
	if err != nil {
		return ""
	}
	return string(b)
}

func main() {
	chartDir := flag.String("chart", "", "chart directory (required)")
	release := flag.String("release", "prescient", "release name")
	namespace := flag.String("namespace", "prescient-system", "release namespace")
	notes := flag.Bool("notes", false, "also print the rendered NOTES.txt (to stderr)")
	var vfiles valueFiles
	flag.Var(&vfiles, "f", "values file (repeatable; later files win)")
	flag.Parse()
	if *chartDir == "" {
		fmt.Fprintln(os.Stderr, "render-chart: -chart is required")
		os.Exit(2)
	}
	if err := run(*chartDir, *release, *namespace, vfiles, *notes); err != nil {
		fmt.Fprintf(os.Stderr, "render-chart: %v\n", err)
		os.Exit(1)
	}
}

func run(chartDir, release, namespace string, vfiles []string, notes bool) error {
	chartRaw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	var meta map[string]interface{}
	if err := yamlToJSONValue(chartRaw, &meta); err != nil {
		return fmt.Errorf("Chart.yaml: %v", err)
	}
	chart := map[string]interface{}{}
	for k, v := range meta {
		key := strings.ToUpper(k[:1]) + k[1:] // Helm exposes Chart.yaml fields as Go struct fields
		if k == "apiVersion" {
			key = "APIVersion"
		}
		chart[key] = v
	}
	name, _ := chart["Name"].(string)

	values := map[string]interface{}{}
	for _, f := range append([]string{filepath.Join(chartDir, "values.yaml")}, vfiles...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		over := map[string]interface{}{}
		if err := yamlToJSONValue(raw, &over); err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		values = coalesce(values, over)
	}

	// All templates in one set, named <chart>/templates/<path>, as Helm does.
	root := template.New("root")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(n string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 1000 {
			return "", fmt.Errorf("include %q: recursion too deep", n)
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, n, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return strings.ReplaceAll(buf.String(), "<no value>", ""), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil // helm template has no cluster either
	}
	root.Funcs(funcs).Option("missingkey=zero")

	var names []string
	tdir := filepath.Join(chartDir, "templates")
	err = filepath.Walk(tdir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tdir, p)
		tname := path.Join(name, "templates", filepath.ToSlash(rel))
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := root.New(tname).Parse(string(src)); err != nil {
			return err
		}
		names = append(names, tname)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)

	top := func(tname string) map[string]interface{} {
		return map[string]interface{}{
			"Values":  values,
			"Chart":   chart,
			"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
			"Template": map[string]interface{}{"Name": tname, "BasePath": path.Join(name, "templates")},
			"Files":   files{root: chartDir},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{"Version": "v1.32.0", "Major": "1", "Minor": "32", "GitVersion": "v1.32.0"},
			},
		}
	}
	var out bytes.Buffer
	var notesText string
	for _, tname := range names {
		base := path.Base(tname)
		if strings.HasPrefix(base, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tname, top(tname)); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notesText = text
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, strings.TrimRight(text, "\n"))
	}
	if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if notes {
		fmt.Fprint(os.Stderr, notesText)
	}
	return nil
}
