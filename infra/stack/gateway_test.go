package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/a2p-alerts/a2p-alerts/shared/api"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

const (
	tResponse     = "aws:apigateway/response:Response"
	tRestAPI      = "aws:apigateway/restApi:RestApi"
	tResource     = "aws:apigateway/resource:Resource"
	tUsagePlan    = "aws:apigateway/usagePlan:UsagePlan"
	tUsagePlanKey = "aws:apigateway/usagePlanKey:UsagePlanKey"
	tAPIKey       = "aws:apigateway/apiKey:ApiKey"
)

// vtlReference is a VTL variable reference ($name, ${name}, $!name).
var vtlReference = regexp.MustCompile(`\$!?\{?[A-Za-z][A-Za-z0-9_.]*`)

// TestGatewayResponseTemplates checks each template as API Gateway would
// render it: valid JSON in exactly the processor's error envelope, a known
// code whose status is the response's, fixed text, and no reference to
// anything but the request id (so nothing the caller sent is echoed).
func TestGatewayResponseTemplates(t *testing.T) {
	required := []string{"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "WAF_FILTERED", "DEFAULT_4XX", "DEFAULT_5XX", "INTEGRATION_TIMEOUT"}
	var types []string
	for _, g := range GatewayResponses() {
		types = append(types, g.Type)
		t.Run(g.Type, func(t *testing.T) {
			tmpl, err := g.Template()
			if err != nil {
				t.Fatal(err)
			}
			if refs := vtlReference.FindAllString(tmpl, -1); !slices.Equal(refs, []string{requestIDVariable}) {
				t.Errorf("template references %v, want only %s: %s", refs, requestIDVariable, tmpl)
			}
			if strings.Contains(tmpl, "#") {
				t.Errorf("template holds a VTL directive character #: %s", tmpl)
			}
			rendered := strings.ReplaceAll(tmpl, requestIDVariable, "4f2a91c0-1b2c-4d3e-8f90-0a1b2c3d4e5f")
			dec := json.NewDecoder(strings.NewReader(rendered))
			dec.DisallowUnknownFields()
			var body api.ErrorBody
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("rendered template %s is not an api.ErrorBody: %v", rendered, err)
			}
			var shape map[string]map[string]any
			if err := json.Unmarshal([]byte(rendered), &shape); err != nil || len(shape) != 1 {
				t.Fatalf("rendered template %s: want one top-level key (%v)", rendered, err)
			}
			if got, want := slices.Sorted(maps.Keys(shape["error"])), []string{"code", "message", "request_id"}; !slices.Equal(got, want) {
				t.Errorf("error keys = %v, want %v", got, want)
			}
			if body.Error.Code != g.Code || body.Error.Message != g.Message || body.Error.Message == "" {
				t.Errorf("error = %+v, want code %q and message %q", body.Error, g.Code, g.Message)
			}
			switch {
			case strings.HasPrefix(g.Type, "DEFAULT_"):
				if g.StatusCode() != "" {
					t.Errorf("%s sets status %s; a catch-all must keep API Gateway's", g.Type, g.StatusCode())
				}
			case g.StatusCode() != fmt.Sprint(g.Code.Status()):
				t.Errorf("status = %q, want %d (api.Code %q)", g.StatusCode(), g.Code.Status(), g.Code)
			}
		})
	}
	for _, r := range required {
		if !slices.Contains(types, r) {
			t.Errorf("no gateway response %s", r)
		}
	}
}

// TestGatewayResponsesAndNoValidator checks the API under the mocks: one
// gateway response per type with its status and template, no request
// validator, and the model kept for documentation.
func TestGatewayResponsesAndNoValidator(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	apiID := m.byName(t, tRestAPI, "api").id
	for _, g := range GatewayResponses() {
		r := m.byName(t, tResponse, "api-response-"+g.Type)
		tmpl, err := g.Template()
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct{ field, got, want string }{
			{"restApiId", r.str("restApiId"), apiID},
			{"responseType", r.str("responseType"), g.Type},
			{"statusCode", r.str("statusCode"), g.StatusCode()},
			{"template", propString(r.obj("responseTemplates"), "application/json"), tmpl},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s %s = %q, want %q", g.Type, c.field, c.got, c.want)
			}
		}
	}
	if n, want := len(m.all(tResponse)), len(GatewayResponses()); n != want {
		t.Errorf("got %d gateway responses, want %d", n, want)
	}
	if n := len(m.all(tValidator)); n != 0 {
		t.Errorf("got %d request validators, want none: the processor is the only body validator", n)
	}
	if _, ok := m.byName(t, tMethod, "api-post-notification").inputs["requestValidatorId"]; ok {
		t.Error("the method names a request validator")
	}
	m.byName(t, tModel, "api-alert-model")
}

// servedInputs are, per resource type the stage serves, the inputs that
// are ids or URIs of other resources (in the trigger's ids) or that do not
// change what the stage serves. Every other input must come from
// restSettings.
var servedInputs = map[string][]string{
	tRestAPI:     {"name", "description", "endpointConfiguration", "tags"},
	tResource:    {"restApi", "parentId"},
	tMethod:      {"restApi", "resourceId", "authorizerId"},
	tIntegration: {"restApi", "resourceId", "httpMethod", "uri"},
	tAuthorizer:  {"restApi", "name", "authorizerUri"},
	tModel:       {"restApi", "description"},
	tResponse:    {"restApiId"},
}

// TestDeploymentTriggerCoversEverySetting checks both halves of the
// redeploy rule: every input of what the stage serves comes from
// restSettings (or is an id the trigger holds), and the trigger changes
// with every leaf of restSettings.
func TestDeploymentTriggerCoversEverySetting(t *testing.T) {
	_, m := mustRun(t, "dev", baseConfig(t))
	settings, err := newRestSettings(&APIArgs{AuthorizerCacheTTL: DefaultAuthorizerCacheTTL})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, leaf := range leaves(generic) {
		known[leaf] = true
	}
	for typ, skip := range servedInputs {
		for _, r := range m.all(typ) {
			for k, v := range r.inputs {
				if slices.Contains(skip, string(k)) {
					continue
				}
				for _, leaf := range leaves(v.Mappable()) {
					if !known[leaf] {
						t.Errorf("%s %s: input %s = %s is not in restSettings, so the deployment trigger ignores it", typ, r.name, k, leaf)
					}
				}
			}
		}
	}

	base, err := triggerHash(string(raw), map[string]string{"method": "m1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range leafPaths(generic, "") {
		changed, err := json.Marshal(mutate(generic, strings.Split(path, "/")[1:]))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := triggerHash(string(changed), map[string]string{"method": "m1"}); got == base {
			t.Errorf("changing setting %s does not change the trigger", path)
		}
	}
	if got, _ := triggerHash(string(raw), map[string]string{"method": "m2"}); got == base {
		t.Error("changing an id does not change the trigger")
	}
}

// TestDeploymentTriggerFollowsTheConfiguration runs the program twice and
// compares the triggers.
func TestDeploymentTriggerFollowsTheConfiguration(t *testing.T) {
	trigger := func(cfg map[string]string) string {
		_, m := mustRun(t, "dev", cfg)
		return propString(m.byName(t, tDeployment, "api-deployment").obj("triggers"), "redeployment")
	}
	cfg := baseConfig(t)
	base := trigger(cfg)
	if len(base) != 64 {
		t.Fatalf("trigger = %q, want a SHA-256", base)
	}
	if again := trigger(cfg); again != base {
		t.Errorf("the same configuration gives another trigger: %s, %s", base, again)
	}
	cfg[key(names.ConfigAuthorizerCacheTTL)] = "0"
	if got := trigger(cfg); got == base {
		t.Error("changing the authorizer's TTL does not change the trigger")
	}
}

// leaves flattens a decoded JSON value (or a PropertyMap's Mappable) into
// its scalar leaves, as JSON text.
func leaves(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, k) // a map key (a template's content type) is a setting too
			out = append(out, leaves(x[k])...)
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, leaves(e)...)
		}
		return out
	case resource.Secret, resource.Computed:
		return []string{fmt.Sprint(x)}
	default:
		b, _ := json.Marshal(x)
		return []string{string(bytes.TrimSpace(b))}
	}
}

// leafPaths lists the paths ("/a/0/b") of the scalar leaves of v.
func leafPaths(v any, prefix string) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, leafPaths(x[k], prefix+"/"+k)...)
		}
		return out
	case []any:
		var out []string
		for i, e := range x {
			out = append(out, leafPaths(e, fmt.Sprintf("%s/%d", prefix, i))...)
		}
		return out
	default:
		return []string{prefix}
	}
}

// mutate returns a copy of v with the leaf at path changed.
func mutate(v any, path []string) any {
	if len(path) == 0 {
		switch x := v.(type) {
		case string:
			return x + "~"
		case bool:
			return !x
		case float64:
			return x + 1
		default:
			return "changed"
		}
	}
	switch x := v.(type) {
	case map[string]any:
		out := maps.Clone(x)
		out[path[0]] = mutate(x[path[0]], path[1:])
		return out
	case []any:
		out := slices.Clone(x)
		var i int
		_, _ = fmt.Sscan(path[0], &i)
		out[i] = mutate(x[i], path[1:])
		return out
	default:
		return v
	}
}
