package stack

import (
	"maps"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Keys of the default tags every taggable resource carries.
const (
	// TagProject holds the Pulumi project name.
	TagProject = "project"
	// TagStack holds the Pulumi stack name.
	TagStack = "stack"
)

// tagsFieldType is the type of the Tags argument of every taggable
// pulumi-aws resource.
var tagsFieldType = reflect.TypeFor[pulumi.StringMapInput]()

// tagEveryResource registers a stack transformation that gives every
// resource registered after it whose arguments have a Tags field the
// default tags; tags a resource sets itself win. One place tags everything,
// so a new resource cannot be forgotten (TestEveryTaggableResourceIsTagged
// walks them all). AWS provider default tags would do the same on a real
// deployment, but only in the provider's state, where neither the unit
// tests nor the sandbox can see them.
func tagEveryResource(ctx *pulumi.Context, tags map[string]string) error {
	return ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		props, ok := withDefaultTags(args.Props, tags)
		if !ok {
			return nil
		}
		return &pulumi.ResourceTransformationResult{Props: props, Opts: args.Opts}
	})
}

// withDefaultTags returns a copy of props (a pointer to a resource's Args
// struct) with tags merged under its Tags field, and false when props has
// no such field.
func withDefaultTags(props pulumi.Input, tags map[string]string) (pulumi.Input, bool) {
	v := reflect.ValueOf(props)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	field, ok := v.Elem().Type().FieldByName("Tags")
	if !ok || field.Type != tagsFieldType {
		return nil, false
	}
	out := reflect.New(v.Elem().Type())
	out.Elem().Set(v.Elem())
	dst := out.Elem().FieldByIndex(field.Index)
	var merged pulumi.StringMapInput = pulumi.ToStringMap(tags)
	if own, set := dst.Interface().(pulumi.StringMapInput); set && own != nil {
		if out, isMap := own.ToStringMapOutput().ApplyT(func(own map[string]string) map[string]string {
			all := maps.Clone(tags)
			maps.Copy(all, own)
			return all
		}).(pulumi.StringMapOutput); isMap {
			merged = out
		}
	}
	dst.Set(reflect.ValueOf(&merged).Elem())
	input, ok := out.Interface().(pulumi.Input)
	return input, ok
}
