package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is a stack's configuration as `pulumi up` hands it to the
// program, read from the files the Pulumi CLI reads.
type File struct {
	// Project is Pulumi.yaml's name; Stack comes from Pulumi.<stack>.yaml.
	Project, Stack string
	// Config maps "namespace:key" to the value as the program reads it
	// (PULUMI_CONFIG): scalars as text, lists and objects as JSON. The
	// project's declared defaults are overlaid with the stack's values.
	Config map[string]string
}

// LoadFile reads a stack file (<dir>/Pulumi.<stack>.yaml) and the
// Pulumi.yaml beside it. A secure (encrypted) value is an error: only the
// Pulumi CLI can decrypt it.
func LoadFile(path string) (*File, error) {
	base := filepath.Base(path)
	stack, ok := strings.CutSuffix(strings.TrimPrefix(base, "Pulumi."), ".yaml")
	if !ok || stack == base || stack == "" || base == "Pulumi.yaml" {
		return nil, fmt.Errorf("%s is not a stack file (Pulumi.<stack>.yaml)", path)
	}

	var project struct {
		Name   string         `yaml:"name"`
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(filepath.Join(filepath.Dir(path), "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	var stackFile struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(path, &stackFile); err != nil {
		return nil, err
	}

	sf := &File{Project: project.Name, Stack: stack, Config: map[string]string{}}
	if err := sf.setDefaults(project.Config); err != nil {
		return nil, fmt.Errorf("%s: %w", "Pulumi.yaml", err)
	}
	for key, v := range stackFile.Config {
		if !strings.Contains(key, ":") {
			return nil, fmt.Errorf("%s: config key %q has no namespace (want %s)", base, key, sf.Key(key))
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			return nil, fmt.Errorf("%s: %s is a secret, which only the Pulumi CLI can decrypt", base, key)
		}
		if err := sf.set(key, v); err != nil {
			return nil, fmt.Errorf("%s: %w", base, err)
		}
	}
	return sf, nil
}

// setDefaults sets the project's config: each key is either a value or a
// declaration with a value or a default. A key without a namespace is the
// project's.
func (sf *File) setDefaults(config map[string]any) error {
	for key, v := range config {
		if decl, ok := v.(map[string]any); ok {
			if v, ok = decl["value"]; !ok {
				v, ok = decl["default"]
			}
			if !ok {
				continue
			}
		}
		if !strings.Contains(key, ":") {
			key = sf.Key(key)
		}
		if err := sf.set(key, v); err != nil {
			return err
		}
	}
	return nil
}

// set renders one config value the way the Pulumi CLI passes it.
func (sf *File) set(key string, v any) error {
	switch t := v.(type) {
	case nil:
		sf.Config[key] = ""
	case string:
		sf.Config[key] = t
	case bool:
		sf.Config[key] = strconv.FormatBool(t)
	case int:
		sf.Config[key] = strconv.Itoa(t)
	case float64:
		sf.Config[key] = strconv.FormatFloat(t, 'f', -1, 64)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}

		sf.Config[key] = string(b)
	}

	return nil
}

// Key returns the config key of a project setting: "<project>:<name>".
func (sf *File) Key(name string) string { return sf.Project + ":" + name }

func readYAML(path string, v any) error {
	data, err := os.ReadFile(path) //nolint:gosec // the caller names its own stack file
	if err != nil {
		return fmt.Errorf("read stack configuration: %w", err)
	}

	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}

	return nil
}
