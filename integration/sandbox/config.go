package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// StackConfig is a stack's configuration as `pulumi up` hands it to the
// program.
type StackConfig struct {
	// Project is the project name (Pulumi.yaml's name).
	Project string
	// Stack is the stack name (from Pulumi.<stack>.yaml).
	Stack string
	// Values maps "namespace:key" to the value as the program reads it:
	// plain strings for scalars, JSON for structured values.
	Values map[string]string
}

// LoadStackConfig reads the config block of a stack file such as
// Pulumi.local.yaml and returns it as Pulumi passes configuration to a
// program (PULUMI_CONFIG): keys "namespace:key", scalar values as text and
// structured values (lists, objects) as JSON. A secure (encrypted) value
// is an error: the sandbox cannot decrypt it, and a local stack has no
// secret to hide.
func LoadStackConfig(path string) (map[string]string, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the caller names its own stack file
	if err != nil {
		return nil, fmt.Errorf("read stack file: %w", err)
	}

	var file struct {
		Config map[string]any `yaml:"config"`
	}

	if err := yaml.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}

	out := make(map[string]string, len(file.Config))

	for key, v := range file.Config {
		if !strings.Contains(key, ":") {
			return nil, fmt.Errorf("%s: config key %q has no namespace (want project:key)", path, key)
		}

		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			return nil, fmt.Errorf("%s: %s is a secret; the sandbox cannot decrypt it: give the local stack a plain value", path, key)
		}

		s, err := configValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, key, err)
		}

		out[key] = s
	}

	return out, nil
}

// configValue renders one config value the way the Pulumi CLI does.
func configValue(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int:
		return strconv.Itoa(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("structured value: %w", err)
		}

		return string(b), nil
	}
}

// LoadStack reads a stack file (Pulumi.<stack>.yaml) and the Pulumi.yaml
// next to it, and returns the configuration `pulumi up` would give the
// program: the project's declared defaults overlaid with the stack's
// values.
func LoadStack(stackFile string) (*StackConfig, error) {
	base := filepath.Base(stackFile)
	if !strings.HasPrefix(base, "Pulumi.") || !strings.HasSuffix(base, ".yaml") || base == "Pulumi.yaml" {
		return nil, fmt.Errorf("%s is not a stack file (Pulumi.<stack>.yaml)", stackFile)
	}

	stack := strings.TrimSuffix(strings.TrimPrefix(base, "Pulumi."), ".yaml")

	project, defaults, err := loadProject(filepath.Join(filepath.Dir(stackFile), "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}

	values, err := LoadStackConfig(stackFile)
	if err != nil {
		return nil, err
	}

	if project == "" {
		project, err = inferProject(values)
		if err != nil {
			return nil, fmt.Errorf("%s (and no Pulumi.yaml beside it): %w", stackFile, err)
		}
	}

	merged := make(map[string]string, len(defaults)+len(values))

	for k, v := range defaults {
		if !strings.Contains(k, ":") {
			k = project + ":" + k
		}

		merged[k] = v
	}

	for k, v := range values {
		merged[k] = v
	}

	return &StackConfig{Project: project, Stack: stack, Values: merged}, nil
}

// loadProject reads a Pulumi.yaml's name and config defaults. A missing
// file is not an error.
func loadProject(path string) (string, map[string]string, error) {
	data, err := os.ReadFile(path) //nolint:gosec // derived from the caller's stack file
	if errors.Is(err, os.ErrNotExist) {
		return "", nil, nil
	}

	if err != nil {
		return "", nil, fmt.Errorf("read project file: %w", err)
	}

	var file struct {
		Name   string         `yaml:"name"`
		Config map[string]any `yaml:"config"`
	}

	if err := yaml.Unmarshal(data, &file); err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", path, err)
	}

	defaults := map[string]string{}

	for key, v := range file.Config {
		spec, isSpec := v.(map[string]any)
		if !isSpec {
			s, err := configValue(v)
			if err != nil {
				return "", nil, fmt.Errorf("%s: %s: %w", path, key, err)
			}

			defaults[key] = s

			continue
		}

		for _, field := range []string{"value", "default"} {
			if dv, ok := spec[field]; ok {
				s, err := configValue(dv)
				if err != nil {
					return "", nil, fmt.Errorf("%s: %s: %w", path, key, err)
				}

				defaults[key] = s

				break
			}
		}
	}

	return file.Name, defaults, nil
}

// inferProject returns the one config namespace that is not a provider's.
func inferProject(cfg map[string]string) (string, error) {
	found := map[string]bool{}

	for k := range cfg {
		ns, _, ok := strings.Cut(k, ":")
		if ok && ns != "aws" && ns != "pulumi" {
			found[ns] = true
		}
	}

	if len(found) != 1 {
		return "", fmt.Errorf("cannot tell the project from config namespaces %v: name it", sortedKeys(found))
	}

	for ns := range found {
		return ns, nil
	}

	return "", nil
}
