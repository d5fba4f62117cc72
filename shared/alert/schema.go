package alert

import (
	"encoding/json"
	"fmt"
)

// SchemaDraft is the JSON Schema dialect API Gateway models accept.
const SchemaDraft = "http://json-schema.org/draft-04/schema#"

// Schema returns the alert's JSON Schema (draft-04, as API Gateway request
// models require), derived from Fields. It states the shape and limits;
// the checks a schema cannot express (the text rules, \u escapes, PHI) are noted
// in descriptions and enforced by Decode.
func Schema() []byte {
	props := map[string]any{}
	required := make([]string, 0, len(Fields))
	for _, f := range Fields {
		p := map[string]any{
			"type":        "string",
			"description": f.Doc,
			"minLength":   f.MinLen,
			"maxLength":   f.MaxLen,
		}
		if f.Pattern != "" {
			p["pattern"] = f.Pattern
		}
		if len(f.Enum) > 0 {
			p["enum"] = f.Enum
		}
		props[f.Name] = p
		required = append(required, f.Name)
	}
	schema := map[string]any{
		"$schema":              SchemaDraft,
		"title":                "Alert",
		"description":          fmt.Sprintf("An alert for POST /notification. Bodies over %d bytes are rejected.", MaxBodyBytes),
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
	out, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("alert: marshal schema: %v", err)) // plain maps and strings cannot fail
	}
	return out
}
