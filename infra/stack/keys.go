package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/token"
)

// APIKeysType is the type token of the APIKeys component.
const APIKeysType = "a2p:api:Keys" //nolint:gosec // G101: a Pulumi type token, not a credential

// APIKeysArgs configures the APIKeys component.
type APIKeysArgs struct {
	// NamePrefix starts each key's name: "<NamePrefix>-<client name>".
	NamePrefix string
	// Clients are the API clients; each gets one key.
	Clients []APIClient
}

// APIKeys holds one API Gateway API key per API client. A key identifies
// the client's usage plan (its rate, burst and daily quota) and grants
// nothing: the REST API takes keys from the authorizer only
// (apiKeySource AUTHORIZER), never from a request header, and admits a
// request only when the authorizer matched the client's token. AWS
// generates each key's value; the authorizer learns it from its
// environment (token.Client.UsageKey) and returns it as
// usageIdentifierKey for the client it matched.
//
// The keys exist before the functions (the authorizer's environment holds
// their values) and before the API (whose usage plans name them).
type APIKeys struct {
	pulumi.ResourceState

	// Keys by client name.
	Keys map[string]*apigateway.ApiKey
}

// NewAPIKeys creates one API key per client.
func NewAPIKeys(ctx *pulumi.Context, name string, args *APIKeysArgs, opts ...pulumi.ResourceOption) (*APIKeys, error) {
	k := &APIKeys{Keys: map[string]*apigateway.ApiKey{}}
	if err := ctx.RegisterComponentResource(APIKeysType, name, k, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	ids := pulumi.StringMap{}
	for _, cl := range args.Clients {
		key, err := apigateway.NewApiKey(ctx, name+"-"+logicalName(cl.Name), &apigateway.ApiKeyArgs{
			Name:        pulumi.String(args.NamePrefix + "-" + cl.Name),
			Description: pulumi.Sprintf("%s: usage plan key of API client %s (sent by the authorizer, never by callers)", args.NamePrefix, cl.Name),
			Enabled:     pulumi.Bool(true),
		}, pulumi.Parent(k))
		if err != nil {
			return nil, fmt.Errorf("create api key of %s: %w", cl.Name, err)
		}
		k.Keys[cl.Name] = key
		ids[cl.Name] = key.ID().ToStringOutput()
	}
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{"keyIds": ids}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return k, nil
}

// AuthorizerClients renders clients, with each one's key value, as the
// JSON list of token.Client the authorizer reads from names.EnvAPIClients.
// The list is a secret in the state, as the key values are.
func (k *APIKeys) AuthorizerClients(clients []APIClient) pulumi.StringOutput {
	values := pulumi.StringMap{}
	for _, cl := range clients {
		values[cl.Name] = k.Keys[cl.Name].Value
	}
	return secret(applyString(values.ToStringMapOutput(), func(v map[string]string) (string, error) {
		list := make([]token.Client, 0, len(clients))
		for _, cl := range clients {
			list = append(list, token.Client{Name: cl.Name, SHA256: cl.SHA256, UsageKey: v[cl.Name]})
		}
		b, err := json.Marshal(list)
		if err != nil {
			return "", fmt.Errorf("marshal api clients: %w", err)
		}
		return string(b), nil
	}))
}

var (
	// plainName is what a Pulumi logical name may hold as is.
	plainName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// notPlain is a run of characters plainName does not allow.
	notPlain = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// logicalName turns an API client's name (any printable text) into a
// stable part of a Pulumi logical name: the name itself when it is plain,
// else its plain characters and a short hash of the whole name, so that
// two names never collide.
func logicalName(clientName string) string {
	if plainName.MatchString(clientName) {
		return clientName
	}
	plain := notPlain.ReplaceAllString(clientName, "-")
	sum := sha256.Sum256([]byte(clientName))
	return plain + "-" + hex.EncodeToString(sum[:4])
}
