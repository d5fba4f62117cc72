package stack

// The acknowledgment routes of the API (issue 12).

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// authorizationNone is a method without an authorizer.
	authorizationNone = "NONE"
	// Throttling of the link routes, per stage (API Gateway's method
	// settings): a page view or a button press is one request, so a
	// clinician never meets it; it bounds what a link scanner or a token
	// guesser can send (a 128-bit token is not guessed anyway).
	linkRateLimit  = 10.0
	linkBurstLimit = 20
)

// AckRoutes are the acknowledgment routes, each proxied to the ack
// function, which a permission per route lets this API invoke.
type AckRoutes struct {
	// Resource is /notification/{message_id}/ack; Method its POST, behind
	// the authorizer; Integration proxies it; Permission lets this API
	// invoke the ack function for it.
	Resource    *apigateway.Resource
	Method      *apigateway.Method
	Integration *apigateway.Integration
	Permission  *lambda.Permission
	// LinkResource is /ack, LinkTokenResource /ack/{token}; LinkMethods,
	// LinkIntegrations and LinkPermissions by HTTP method (GET, POST),
	// without the authorizer.
	LinkResource, LinkTokenResource *apigateway.Resource
	LinkMethods                     map[string]*apigateway.Method
	LinkIntegrations                map[string]*apigateway.Integration
	LinkPermissions                 map[string]*lambda.Permission
	// LinkThrottles are the method settings that throttle each link
	// method.
	LinkThrottles map[string]*apigateway.MethodSettings
}

// createAckRoutes creates POST /notification/{message_id}/ack (behind the
// authorizer) and GET and POST /ack/{token} (without it), each proxied to
// the ack function.
func (a *API) createAckRoutes(ctx *pulumi.Context, name string, args *APIArgs, s restSettings) error {
	r := &a.Ack
	r.LinkMethods, r.LinkIntegrations, r.LinkPermissions = map[string]*apigateway.Method{}, map[string]*apigateway.Integration{}, map[string]*lambda.Permission{}
	var err error
	if r.Resource, err = a.resource(ctx, name+"-notification-ack", a.StatusResource.ID(), s.AckPath); err != nil {
		return err
	}
	r.Method, r.Integration, err = a.proxy(ctx, name+"-post-ack", r.Resource, s.AckHTTPMethod, args.Ack, s, &apigateway.MethodArgs{
		Authorization: pulumi.String(s.Authorization), AuthorizerId: a.Authorizer.ID(), ApiKeyRequired: pulumi.Bool(s.APIKeyRequired),
	})
	if err != nil {
		return err
	}
	route := fmt.Sprintf("%s/%s/*/%s", s.AckHTTPMethod, s.Path, s.AckPath)
	if r.Permission, err = a.permit(ctx, name+"-invoke-ack", args.Ack, route); err != nil {
		return err
	}
	if r.LinkResource, err = a.resource(ctx, name+"-ack", a.RestAPI.RootResourceId, s.LinkPath); err != nil {
		return err
	}
	if r.LinkTokenResource, err = a.resource(ctx, name+"-ack-token", r.LinkResource.ID(), s.LinkTokenPath); err != nil {
		return err
	}
	for _, m := range s.LinkHTTPMethods {
		base := name + "-" + strings.ToLower(m) + "-ack-link"
		r.LinkMethods[m], r.LinkIntegrations[m], err = a.proxy(ctx, base, r.LinkTokenResource, m, args.Ack, s, &apigateway.MethodArgs{
			Authorization: pulumi.String(s.LinkAuthorization), ApiKeyRequired: pulumi.Bool(s.LinkAPIKeyRequired),
		})
		if err != nil {
			return err
		}
		if r.LinkPermissions[m], err = a.permit(ctx, name+"-invoke-ack-link-"+strings.ToLower(m), args.Ack, m+"/"+s.LinkPath+"/*"); err != nil {
			return err
		}
	}
	return nil
}

// resource creates one path part under parent.
func (a *API) resource(ctx *pulumi.Context, logical string, parent pulumi.StringInput, part string) (*apigateway.Resource, error) {
	r, err := apigateway.NewResource(ctx, logical, &apigateway.ResourceArgs{
		RestApi: a.RestAPI.ID(), ParentId: parent, PathPart: pulumi.String(part),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create resource %s: %w", part, err)
	}
	return r, nil
}

// proxy creates a method on res (its authorization in m) and its Lambda
// proxy integration with fn.
func (a *API) proxy(ctx *pulumi.Context, logical string, res *apigateway.Resource, method string, fn *lambda.Function,
	s restSettings, m *apigateway.MethodArgs,
) (*apigateway.Method, *apigateway.Integration, error) {
	m.RestApi, m.ResourceId, m.HttpMethod = a.RestAPI.ID(), res.ID(), pulumi.String(method)
	meth, err := apigateway.NewMethod(ctx, logical, m, pulumi.Parent(a))
	if err != nil {
		return nil, nil, fmt.Errorf("create method %s: %w", logical, err)
	}
	integ, err := apigateway.NewIntegration(ctx, logical+"-integration", &apigateway.IntegrationArgs{
		RestApi:               a.RestAPI.ID(),
		ResourceId:            res.ID(),
		HttpMethod:            meth.HttpMethod,
		Type:                  pulumi.String(s.IntegrationType),
		IntegrationHttpMethod: pulumi.String(s.IntegrationHTTPMethod),
		Uri:                   fn.InvokeArn,
		TimeoutMilliseconds:   pulumi.Int(s.IntegrationTimeoutMS),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, nil, fmt.Errorf("create integration %s: %w", logical, err)
	}
	return meth, integ, nil
}

// permit lets this API invoke fn for route ("<METHOD>/<path>", "*" for a
// path parameter) on any stage, and for nothing else.
func (a *API) permit(ctx *pulumi.Context, logical string, fn *lambda.Function, route string) (*lambda.Permission, error) {
	p, err := lambda.NewPermission(ctx, logical, &lambda.PermissionArgs{
		Function:  fn.Name,
		Action:    pulumi.String("lambda:InvokeFunction"),
		Principal: pulumi.String(apigatewayService),
		SourceArn: pulumi.Sprintf("%s/*/%s", a.RestAPI.ExecutionArn, route),
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("create permission %s: %w", logical, err)
	}
	return p, nil
}

// addIDs adds the routes' ids and URI to the deployment trigger's ids.
func (r *AckRoutes) addIDs(ids pulumi.StringMap, args *APIArgs) {
	ids["ackResource"] = r.Resource.ID().ToStringOutput()
	ids["ackMethod"] = r.Method.ID().ToStringOutput()
	ids["ackIntegration"] = r.Integration.ID().ToStringOutput()
	ids["ackUri"] = args.Ack.InvokeArn
	ids["linkResource"] = r.LinkResource.ID().ToStringOutput()
	ids["linkTokenResource"] = r.LinkTokenResource.ID().ToStringOutput()
	for m, meth := range r.LinkMethods {
		ids["linkMethod:"+m] = meth.ID().ToStringOutput()
		ids["linkIntegration:"+m] = r.LinkIntegrations[m].ID().ToStringOutput()
	}
}

// served are the routes' methods and integrations, which the deployment
// waits for.
func (r *AckRoutes) served() []pulumi.Resource {
	out := []pulumi.Resource{r.Method, r.Integration}
	for m, meth := range r.LinkMethods {
		out = append(out, meth, r.LinkIntegrations[m])
	}
	return out
}

// throttleLinks throttles each link method on the stage, below the
// stage's own limits.
func (a *API) throttleLinks(ctx *pulumi.Context, name string, _ *APIArgs, s restSettings) error {
	a.Ack.LinkThrottles = map[string]*apigateway.MethodSettings{}
	for _, m := range s.LinkHTTPMethods {
		ms, err := apigateway.NewMethodSettings(ctx, name+"-"+strings.ToLower(m)+"-ack-link-throttle", &apigateway.MethodSettingsArgs{
			RestApi:    a.RestAPI.ID(),
			StageName:  a.Stage.StageName,
			MethodPath: pulumi.String(s.LinkPath + "/" + s.LinkTokenPath + "/" + m),
			Settings: apigateway.MethodSettingsSettingsArgs{
				ThrottlingRateLimit:  pulumi.Float64(linkRateLimit),
				ThrottlingBurstLimit: pulumi.Int(linkBurstLimit),
				MetricsEnabled:       pulumi.Bool(true),
				LoggingLevel:         pulumi.String("OFF"),
				DataTraceEnabled:     pulumi.Bool(false),
			},
		}, pulumi.Parent(a), pulumi.DependsOn([]pulumi.Resource{a.MethodSettings}))
		if err != nil {
			return fmt.Errorf("throttle %s /%s/%s: %w", m, s.LinkPath, s.LinkTokenPath, err)
		}
		a.Ack.LinkThrottles[m] = ms
	}
	return nil
}
