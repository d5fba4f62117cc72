package api_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/api"
)

// TestAlertRecordSchemaMatchesTheStructs checks the schema against the
// JSON fields of the answer's structs: the same properties, and a field is
// required exactly when it is not omitempty. No additional property is
// allowed, so the schema also says the answer holds nothing else.
func TestAlertRecordSchemaMatchesTheStructs(t *testing.T) {
	t.Parallel()
	var schema map[string]any
	if err := json.Unmarshal(api.AlertRecordSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	props := object(t, schema["properties"])
	checkObject(t, "AlertRecord", schema, reflect.TypeFor[api.AlertRecord]())
	checkObject(t, "Attempt", object(t, object(t, props["attempts"])["items"]), reflect.TypeFor[api.AttemptRecord]())
	checkObject(t, "Event", object(t, object(t, props["events"])["items"]), reflect.TypeFor[api.EventRecord]())
	esc := object(t, props["escalation"])
	checkObject(t, "Escalation", esc, reflect.TypeFor[api.EscalationRecord]())
	checkObject(t, "EscalationStage", object(t, object(t, object(t, esc["properties"])["stages"])["items"]), reflect.TypeFor[api.EscalationStageRecord]())
	if schema["$schema"] != "http://json-schema.org/draft-04/schema#" {
		t.Errorf("$schema = %v", schema["$schema"])
	}
}

// object is v as a JSON object, or fails.
func object(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	return m
}

func checkObject(t *testing.T, name string, obj map[string]any, typ reflect.Type) {
	t.Helper()
	props, _ := obj["properties"].(map[string]any)
	var required []string
	list, _ := obj["required"].([]any)
	for _, r := range list {
		field, _ := r.(string)
		required = append(required, field)
	}
	if obj["additionalProperties"] != false {
		t.Errorf("%s allows additional properties", name)
	}
	seen := 0
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		field, opts, _ := strings.Cut(tag, ",")
		seen++
		p, ok := props[field].(map[string]any)
		if !ok {
			t.Errorf("%s: schema lacks %s", name, field)
			continue
		}
		if p["description"] == "" && p["items"] == nil {
			t.Errorf("%s.%s has no description", name, field)
		}
		if want := opts != "omitempty"; slices.Contains(required, field) != want {
			t.Errorf("%s.%s: required %v, want %v", name, field, !want, want)
		}
	}
	if len(props) != seen {
		t.Errorf("%s: schema has %d properties, the struct %d", name, len(props), seen)
	}
}
