// render - a minimal `helm template` stand-in for testing the rawcap chart offline.
//
// Helm is not installable on the test machines, so this renders a chart with
// Go's text/template plus sprig, exactly as Helm does, and implements only the
// Helm built-ins the rawcap chart uses: include, tpl, required, toYaml,
// fromYaml, and the .Values/.Release/.Chart/.Capabilities/.Template objects.
// Values files are merged the way Helm merges -f files (maps deep-merge, a
// null deletes a key). The merged values are written as JSON so the caller can
// validate them against values.schema.json, as Helm would before rendering.
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o render .
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// capabilities mirrors the parts of Helm's .Capabilities the chart may use.
type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
}

type kubeVersion struct {
	Version, Major, Minor, GitVersion string
}

type apiVersions []string

// Has reports whether an API group/version (or group/version/Kind) is known,
// like Helm's .Capabilities.APIVersions.Has.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// multiFlag collects repeated -f/-api-versions flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// readYAML parses a YAML file into a generic map, numbers as float64 (as Helm).
func readYAML(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// mergeValues deep-merges src over dst in place; a nil in src deletes the key,
// which is how Helm lets a user unset a chart default.
func mergeValues(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			mergeValues(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// chartObject maps Chart.yaml keys to the capitalised names Helm exposes.
func chartObject(meta map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range meta {
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return out
}

// toYAML is Helm's toYaml: sigs.k8s.io/yaml with the final newline trimmed.
func toYAML(v interface{}) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// fromYAML is Helm's fromYaml: errors are reported inside the map.
func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func main() {
	var valueFiles, apis multiFlag
	chartDir := flag.String("chart", "", "chart directory")
	name := flag.String("name", "rawcap", "release name")
	ns := flag.String("namespace", "rawcap", "release namespace")
	kube := flag.String("kube-version", "v1.29.0", "Kubernetes version for .Capabilities")
	valuesOut := flag.String("values-out", "", "write the merged values here as JSON")
	notes := flag.Bool("notes", false, "render templates/NOTES.txt instead of the manifests")
	flag.Var(&valueFiles, "f", "values file (repeatable, later wins)")
	flag.Var(&apis, "api-versions", "extra API version for .Capabilities (repeatable)")
	flag.Parse()
	if *chartDir == "" {
		fmt.Fprintln(os.Stderr, "render: -chart is required")
		os.Exit(2)
	}
	if err := run(*chartDir, *name, *ns, *kube, *valuesOut, *notes, valueFiles, apis); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(chartDir, name, ns, kube, valuesOut string, notes bool, valueFiles, apis []string) error {
	meta, err := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYAML(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		over, err := readYAML(f)
		if err != nil {
			return err
		}
		mergeValues(values, over)
	}
	if valuesOut != "" {
		b, _ := json.MarshalIndent(values, "", "  ")
		if err := os.WriteFile(valuesOut, b, 0o644); err != nil {
			return err
		}
	}

	chartName, _ := meta["name"].(string)
	parts := strings.SplitN(strings.TrimPrefix(kube, "v"), ".", 3)
	caps := capabilities{
		KubeVersion: kubeVersion{Version: kube, GitVersion: kube, Major: parts[0], Minor: parts[1]},
		APIVersions: append(apiVersions{"v1", "apps/v1", "rbac.authorization.k8s.io/v1",
			"discovery.k8s.io/v1", "policy/v1"}, apis...),
	}
	top := map[string]interface{}{
		"Values":       values,
		"Chart":        chartObject(meta),
		"Capabilities": caps,
		"Release": map[string]interface{}{
			"Name": name, "Namespace": ns, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
	}

	// One template set holds every file, named <chart>/templates/<file>, so
	// include can reach the defines in _helpers.tpl from any manifest.
	var t *template.Template
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm removes these two for safety
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	funcs["include"] = func(n string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := t.ExecuteTemplate(&buf, n, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		c, err = c.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = c.Execute(&buf, data)
		return buf.String(), err
	}
	t = template.New(chartName).Funcs(funcs).Option("missingkey=zero")

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		n := chartName + "/templates/" + filepath.Base(f)
		if _, err := t.New(n).Parse(string(b)); err != nil {
			return err
		}
	}

	empty := regexp.MustCompile(`^\s*(---\s*)*$`)
	for _, f := range files {
		base := filepath.Base(f)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != notes {
			continue
		}
		n := chartName + "/templates/" + base
		top["Template"] = map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, n, top); err != nil {
			return err
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if notes {
			fmt.Print(out)
			continue
		}
		if empty.MatchString(out) {
			continue // Helm drops manifests that render to nothing
		}
		fmt.Printf("---\n# Source: %s\n%s\n", n, strings.TrimSpace(out))
	}
	return nil
}
