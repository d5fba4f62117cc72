package stack

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// flowActionShape is what the Amazon Connect Flow language reference
// documents for one action type: the parameters it takes, whether it has a
// NextAction, and the error types its Transitions must (required) or may
// (allowed) route. Sources, the English reference pages (the translated
// ones lag behind):
//   - UpdateContactTextToSpeechVoice: parameters TextToSpeechVoice,
//     TextToSpeechEngine, TextToSpeechStyle; errors: NoMatchingError,
//     "Must always be defined".
//     https://docs.aws.amazon.com/connect/latest/APIReference/contact-actions-updatecontacttexttospeechvoice.html
//   - MessageParticipant: one of PromptId, Text, SSML, Media; errors:
//     NoMatchingError.
//     https://docs.aws.amazon.com/connect/latest/adminguide/participant-actions-messageparticipant.html
//   - DisconnectParticipant: no parameters, no conditions, no errors; it
//     ends the flow.
//     https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-disconnectparticipant.html
//   - GetParticipantInput: PromptId, Text, SSML or Media, with
//     InputTimeLimitSeconds and StoreInput (and options this flow does not
//     use); conditions on the input; errors InputTimeLimitExceeded,
//     NoMatchingCondition, NoMatchingError.
//     https://docs.aws.amazon.com/connect/latest/APIReference/participant-actions-getparticipantinput.html
//   - InvokeLambdaFunction: LambdaFunctionARN, InvocationTimeLimitSeconds
//     (at most 8), InvocationType, LambdaInvocationAttributes,
//     ResponseValidation; no conditions; error NoMatchingError.
//     https://docs.aws.amazon.com/connect/latest/APIReference/interactions-invokelambdafunction.html
//   - Compare: ComparisonValue; conditions; error NoMatchingCondition.
//     https://docs.aws.amazon.com/connect/latest/APIReference/flow-control-actions-compare.html
type flowActionShape struct {
	params     []string
	next       bool
	conditions bool
	required   []string
	allowed    []string
}

var flowActionShapes = map[string]flowActionShape{
	"UpdateContactTextToSpeechVoice": {
		params: []string{"TextToSpeechVoice", "TextToSpeechEngine", "TextToSpeechStyle"}, next: true,
		required: []string{flowErrorNoMatch}, allowed: []string{flowErrorNoMatch},
	},
	"MessageParticipant": {
		params: []string{"PromptId", "Text", "SSML", "Media"}, next: true,
		allowed: []string{flowErrorNoMatch},
	},
	"DisconnectParticipant": {},
	"GetParticipantInput": {
		params:     []string{"PromptId", "Text", "SSML", "Media", "InputTimeLimitSeconds", "StoreInput", "InputValidation", "InputEncryption", "DTMFConfiguration"},
		conditions: true,
		required:   []string{flowErrorTimeout, flowErrorNoCondition, flowErrorNoMatch},
		allowed:    []string{flowErrorTimeout, flowErrorNoCondition, flowErrorNoMatch},
	},
	"InvokeLambdaFunction": {
		params: []string{"LambdaFunctionARN", "InvocationTimeLimitSeconds", "InvocationType", "LambdaInvocationAttributes", "ResponseValidation"},
		next:   true, required: []string{flowErrorNoMatch}, allowed: []string{flowErrorNoMatch},
	},
	"Compare": {
		params: []string{"ComparisonValue"}, conditions: true,
		required: []string{flowErrorNoCondition}, allowed: []string{flowErrorNoCondition},
	},
}

// TestContactFlowFollowsTheFlowLanguage checks the generated JSON (what
// Connect receives) action by action against flowActionShapes, and the
// flow as a graph: it starts at an action, every transition names an
// action, every action is reachable, and every path ends in a disconnect.
func TestContactFlowFollowsTheFlowLanguage(t *testing.T) {
	content, err := AlertContactFlow("Amy", "arn:aws:lambda:us-east-1:123456789012:function:a2p-alerts-dev-ack").JSON()
	if err != nil {
		t.Fatal(err)
	}
	var flow struct {
		Version     string
		StartAction string
		Actions     []struct {
			Identifier  string
			Type        string
			Parameters  map[string]any
			Transitions map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(content), &flow); err != nil {
		t.Fatalf("flow JSON: %v", err)
	}
	if flow.Version != "2019-10-30" {
		t.Errorf("Version = %q, want 2019-10-30", flow.Version)
	}
	edges := map[string][]string{}
	for _, a := range flow.Actions {
		shape, known := flowActionShapes[a.Type]
		if !known {
			t.Errorf("%s: action type %q has no documented shape in flowActionShapes", a.Identifier, a.Type)
			continue
		}
		for p := range a.Parameters {
			if !slices.Contains(shape.params, p) {
				t.Errorf("%s (%s): parameter %q is not documented", a.Identifier, a.Type, p)
			}
		}
		if a.Parameters == nil {
			t.Errorf("%s: Parameters must be an object, even when empty", a.Identifier)
		}
		edges[a.Identifier] = checkTransitions(t, a.Identifier, a.Type, shape, a.Transitions)
	}
	if _, ok := edges[flow.StartAction]; !ok {
		t.Fatalf("StartAction %q is not an action", flow.StartAction)
	}
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		next, ok := edges[id]
		if !ok {
			t.Errorf("a transition names %q, which is not an action", id)
			return
		}
		for _, n := range next {
			walk(n)
		}
	}
	walk(flow.StartAction)
	for id := range edges {
		if !seen[id] {
			t.Errorf("action %q is unreachable", id)
		}
	}
}

// checkTransitions checks one action's transitions against its shape and
// returns the actions they lead to.
func checkTransitions(tb testing.TB, id, typ string, shape flowActionShape, tr map[string]json.RawMessage) []string {
	tb.Helper()
	var next []string
	var nextAction string
	if raw, ok := tr["NextAction"]; ok {
		_ = json.Unmarshal(raw, &nextAction)
	}
	switch {
	case shape.next && nextAction == "":
		tb.Errorf("%s (%s): no NextAction", id, typ)
	case !shape.next && !shape.conditions && len(tr) > 0:
		tb.Errorf("%s (%s): has transitions %v, the action documents none", id, typ, slices.Sorted(maps.Keys(tr)))
	case !shape.next && nextAction != "":
		tb.Errorf("%s (%s): has a NextAction, which this flow's actions of the type do not use", id, typ)
	case nextAction != "":
		next = append(next, nextAction)
	}
	next = append(next, checkConditions(tb, id, typ, shape, tr)...)
	var errs []struct{ NextAction, ErrorType string }
	if raw, ok := tr["Errors"]; ok {
		if err := json.Unmarshal(raw, &errs); err != nil {
			tb.Errorf("%s: Errors is not a list: %v", id, err)
		}
	}
	var types []string
	for _, e := range errs {
		if !slices.Contains(shape.allowed, e.ErrorType) {
			tb.Errorf("%s (%s): error type %q is not documented for it", id, typ, e.ErrorType)
		}
		types = append(types, e.ErrorType)
		next = append(next, e.NextAction)
	}
	for _, r := range shape.required {
		if !slices.Contains(types, r) {
			tb.Errorf("%s (%s): the documented error %q has no branch", id, typ, r)
		}
	}
	for k := range tr {
		if k != "NextAction" && k != "Errors" && k != "Conditions" {
			tb.Errorf("%s (%s): transition %q is not used by this flow's actions", id, typ, k)
		}
	}
	return next
}

// checkConditions checks an action's Conditions (Equals with operands)
// and returns the actions they lead to.
func checkConditions(tb testing.TB, id, typ string, shape flowActionShape, tr map[string]json.RawMessage) []string {
	tb.Helper()
	raw, ok := tr["Conditions"]
	if !ok {
		if shape.conditions {
			tb.Errorf("%s (%s): no Conditions", id, typ)
		}
		return nil
	}
	if !shape.conditions {
		tb.Errorf("%s (%s): the action documents no conditions", id, typ)
	}
	var conds []struct {
		NextAction string
		Condition  struct {
			Operator string
			Operands []string
		}
	}
	if err := json.Unmarshal(raw, &conds); err != nil || len(conds) == 0 {
		tb.Errorf("%s: Conditions %s: %v", id, raw, err)
	}
	var next []string
	for _, c := range conds {
		if c.Condition.Operator != "Equals" || len(c.Condition.Operands) == 0 {
			tb.Errorf("%s (%s): condition %+v", id, typ, c.Condition)
		}
		next = append(next, c.NextAction)
	}
	return next
}
