package sandbox

// Outputs of the resource types the emulator cannot host (see notEmulated)
// and of the IAM policy document function.

import (
	"crypto/rand"
	"encoding/json"
	"math/big"
	"strings"
	"time"
)

func recordConnectInstance(p *Provisioner, _ string, in props) (string, map[string]any) {
	id := newUUID()

	return id, map[string]any{
		"arn":         p.arn("connect", "instance/"+id),
		"status":      "ACTIVE",
		"createdTime": time.Now().UTC().Format(time.RFC3339),
		"serviceRole": "arn:aws:iam::" + p.account +
			":role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_" + randomHex(20),
		"tagsAll": tagsAll(in),
	}
}

func recordContactFlow(p *Provisioner, _ string, in props) (string, map[string]any) {
	instance := in.str("instanceId")
	flow := newUUID()

	return instance + ":" + flow, map[string]any{
		"contactFlowId": flow,
		"arn":           p.arn("connect", "instance/"+instance+"/contact-flow/"+flow),
		"tagsAll":       tagsAll(in),
	}
}

func recordPhoneNumber(p *Provisioner, _ string, in props) (string, map[string]any) {
	id := newUUID()

	return id, map[string]any{
		"arn":         p.arn("connect", "phone-number/"+id),
		"phoneNumber": fictionalNumber(in.str("countryCode")),
		"statuses":    []any{map[string]any{"status": "CLAIMED", "message": ""}},
		"tagsAll":     tagsAll(in),
	}
}

// fictionalNumber returns an E.164 number from a range reserved for fiction,
// so a claimed number in the sandbox can never ring anyone: Ofcom's
// +44 7700 900xxx for GB, and NANP's 555-01xx for everything else.
func fictionalNumber(country string) string {
	if strings.EqualFold(country, "GB") {
		return "+447700900" + randomDigits(3)
	}

	return "+1202555" + "01" + randomDigits(2)
}

func randomDigits(n int) string {
	var b strings.Builder

	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			d = big.NewInt(0)
		}

		b.WriteString(d.String())
	}

	return b.String()
}

func recordSMSSubscription(p *Provisioner, _ string, in props) (string, map[string]any) {
	arn := in.str("topic") + ":" + newUUID()

	return arn, map[string]any{
		"arn":                          arn,
		"ownerId":                      p.account,
		"pendingConfirmation":          false,
		"confirmationWasAuthenticated": false,
	}
}

// apiGatewayID returns an id in API Gateway's shape: ten lowercase letters
// and digits.
func apiGatewayID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

	var b strings.Builder

	for range 10 {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			i = big.NewInt(0)
		}

		b.WriteByte(alphabet[i.Int64()])
	}

	return b.String()
}

func recordModel(_ *Provisioner, _ string, _ props) (string, map[string]any) {
	return apiGatewayID(), map[string]any{}
}

func recordRequestValidator(_ *Provisioner, _ string, _ props) (string, map[string]any) {
	return apiGatewayID(), map[string]any{}
}

func recordMethodSettings(_ *Provisioner, _ string, in props) (string, map[string]any) {
	return in.str("restApi") + "-" + in.str("stageName") + "-" + in.str("methodPath"), map[string]any{}
}

func recordAPIGatewayAccount(_ *Provisioner, _ string, _ props) (string, map[string]any) {
	return "api-gateway-account", map[string]any{
		"throttleSettings": []any{map[string]any{"burstLimit": 5000.0, "rateLimit": 10000.0}},
	}
}

func recordWebACL(p *Provisioner, name string, in props) (string, map[string]any) {
	id := newUUID()
	aclName := autoName(in, "name", name, maxGenericName)
	scope := strings.ToLower(orDefault(in.str("scope"), "REGIONAL"))

	return id, map[string]any{
		"name":      aclName,
		"arn":       p.arn("wafv2", scope+"/webacl/"+aclName+"/"+id),
		"capacity":  0.0,
		"lockToken": newUUID(),
		"tagsAll":   tagsAll(in),
	}
}

func recordWebACLAssociation(_ *Provisioner, _ string, in props) (string, map[string]any) {
	return in.str("webAclArn") + "," + in.str("resourceArn"), map[string]any{}
}

// renderPolicyDocument renders aws.iam.getPolicyDocument's statements as
// the provider does: IAM's capitalised keys, and a single-element list
// written as a plain string.
func renderPolicyDocument(in props) (string, error) {
	doc := map[string]any{"Version": orDefault(in.str("version"), "2012-10-17")}
	if id := in.str("policyId"); id != "" {
		doc["Id"] = id
	}

	var statements []any

	for _, s := range in.objs("statements") {
		st := map[string]any{"Effect": orDefault(s.str("effect"), "Allow")}
		if sid := s.str("sid"); sid != "" {
			st["Sid"] = sid
		}

		for key, field := range map[string]string{
			"Action": "actions", "NotAction": "notActions",
			"Resource": "resources", "NotResource": "notResources",
		} {
			if v := s.strs(field); len(v) > 0 {
				st[key] = oneOrMany(v)
			}
		}

		for key, field := range map[string]string{"Principal": "principals", "NotPrincipal": "notPrincipals"} {
			if ps := s.objs(field); len(ps) > 0 {
				st[key] = renderPrincipals(ps)
			}
		}

		if cs := s.objs("conditions"); len(cs) > 0 {
			cond := map[string]map[string]any{}
			for _, c := range cs {
				test := c.str("test")
				if cond[test] == nil {
					cond[test] = map[string]any{}
				}

				cond[test][c.str("variable")] = oneOrMany(c.strs("values"))
			}

			st["Condition"] = cond
		}

		statements = append(statements, st)
	}

	doc["Statement"] = statements

	out, err := json.Marshal(doc)
	if err != nil {
		return "", err //nolint:wrapcheck // json.Marshal of maps of strings cannot fail
	}

	return string(out), nil
}

func renderPrincipals(ps []props) any {
	out := map[string]any{}

	for _, p := range ps {
		typ, ids := p.str("type"), p.strs("identifiers")
		if typ == "*" {
			return "*"
		}

		out[typ] = oneOrMany(ids)
	}

	return out
}

func oneOrMany(v []string) any {
	if len(v) == 1 {
		return v[0]
	}

	return v
}
